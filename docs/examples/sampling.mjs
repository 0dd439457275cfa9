// Sampling for generation: one token per row, seeded (Philox), with the usual filters.
import assert from 'node:assert/strict';
import { defaultInstance, sample as sampleAuto, sampleSync } from '@softmax/auto';
import { sample } from '@softmax/core';

const vocab = 8;
const logits = new Float32Array([
  ...[1, 5, 2, 0, -1, 3, 4, 0], // row 0
  ...[0, 0, 9, 0, 0, 0, 0, 9], // row 1: two equal leaders
]);

// temperature 0 is greedy: the largest logit, ties to the lowest id.
const greedy = sample(logits, { cols: vocab, temperature: 0 });
assert.deepEqual(Array.from(greedy.tokens), [1, 2]);

// The same seed and step give the same token, on every backend.
const options = { cols: vocab, temperature: 0.8, topK: 3, topP: 0.95, seed: 1234, step: 0, logprobs: true };
const a = sample(logits, options);
const b = await sampleAuto(logits, options); // @softmax/auto: Promise API
const c = sampleSync(logits, options); // and its sync twin
assert.deepEqual(Array.from(a.tokens), Array.from(b.tokens));
assert.deepEqual(Array.from(a.tokens), Array.from(c.tokens));
// top-k 3 keeps ids 1, 6, 5 in row 0 (logits 5, 4, 3): the token is one of them.
assert.ok([1, 6, 5].includes(a.tokens[0]));
assert.ok(a.logprobs && a.logprobs[0] < 0 && a.logprobs[0] > Math.log(1e-3)); // asked for: logprobs: true

// A new u for every position of a sequence: advance `step`. Penalties see the history,
// a mask (xgrammar's bitmask: bit j of word j/32) restricts the allowed ids.
const history = [[1, 1, 6], []];
const mask = new Uint32Array([0b0110_0000, 0b0110_0000]); // only ids 5 and 6, in both rows
const next = sample(logits, {
  cols: vocab,
  seed: 1234,
  step: 1,
  history,
  repetitionPenalty: 1.3,
  mask,
  topLogprobs: 2,
});
assert.ok(next.tokens.every((t) => t === 5 || t === 6));
assert.deepEqual(Array.from(next.top.ids).sort(), [5, 5, 6, 6]); // the two allowed ids per row

console.log('greedy:', Array.from(greedy.tokens), 'sampled:', Array.from(a.tokens), 'masked:', Array.from(next.tokens));
await defaultInstance().dispose();
