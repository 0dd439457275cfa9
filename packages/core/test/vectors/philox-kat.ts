/**
 * Philox4x32 known-answer vectors, as data: the "philox4x32" lines of the `kat_vectors` file of the
 * Random123 distribution (D. E. Shaw Research), as reproduced in DEShawResearch/Random123-Boost,
 * libs/random/test/test_philox.cpp (commit 916db91ae4c6fd8324ef054a518851321ab41f91), whose
 * comment says they are cut and pasted from that file. Columns: rounds, counter (4 words),
 * key (2 words), expected output (4 words), all hexadecimal 32-bit words.
 */
export const PHILOX4X32_KAT = `
7  00000000 00000000 00000000 00000000  00000000 00000000  5f6fb709 0d893f64 4f121f81 4f730a48
7  ffffffff ffffffff ffffffff ffffffff  ffffffff ffffffff  5207ddc2 45165e59 4d8ee751 8c52f662
7  243f6a88 85a308d3 13198a2e 03707344  a4093822 299f31d0  4dfccaba 190a87f0 c47362ba b6b5242a
10 00000000 00000000 00000000 00000000  00000000 00000000  6627e8d5 e169c58d bc57ac4c 9b00dbd8
10 ffffffff ffffffff ffffffff ffffffff  ffffffff ffffffff  408f276d 41c83b0e a20bc7c6 6d5451fd
10 243f6a88 85a308d3 13198a2e 03707344  a4093822 299f31d0  d16cfe09 94fdcceb 5001e420 24126ea1
`;

export interface KatVector {
  rounds: number;
  counter: number[];
  key: number[];
  expected: number[];
}

export function parseKat(text: string): KatVector[] {
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const [rounds, ...words] = line.trim().split(/\s+/);
      const w = words.map((h) => Number.parseInt(h, 16));
      return { rounds: Number(rounds), counter: w.slice(0, 4), key: w.slice(4, 6), expected: w.slice(6, 10) };
    });
}
