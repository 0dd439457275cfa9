// placeholder entry replaced by the conformance helper
export {};
