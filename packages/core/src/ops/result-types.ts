/**
 * Typing an op's result from its options: whether an options type asks for `key` for sure
 * ('yes'), surely not ('no'), or may ('maybe'), and the result's part for each answer.
 */
export type Asks<O, K extends string, Yes> = K extends keyof O
  ? [O[K]] extends [Yes]
    ? 'yes'
    : [O[K]] extends [false | undefined]
      ? 'no'
      : 'maybe'
  : 'no';

export type Part<A, Key extends string, Answer> = Answer extends 'yes'
  ? { [P in Key]: A }
  : Answer extends 'no'
    ? { [P in Key]?: undefined }
    : { [P in Key]?: A };
