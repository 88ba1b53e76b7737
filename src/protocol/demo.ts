/** The objective of `infty demo`, which the demo's scripted model plays through. */
export const DEMO_OBJECTIVE =
  'Write a haiku about durable execution into deliverable/haiku.txt, with a deliverable/README.md that explains ' +
  'its 5-7-5 syllable structure line by line.';
