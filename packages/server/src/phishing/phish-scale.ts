import type { Difficulty, PhishCue, PremiseAlignment } from '@consilium/protocol';

/**
 * NIST Phish Scale (Steves, Greene & Theofanos, "Categorizing human phishing difficulty: a Phish
 * Scale", Journal of Cybersecurity 6(1), 2020; NIST TN 2276, 2023).
 *
 * Step 1, cues: the number of observable cues (errors, technical indicators, visual presentation,
 * language and content, common tactics) gives a band: few (1-8), some (9-14), many (15+). More
 * cues make a phish easier to detect.
 * Step 2, premise alignment: how well the premise fits the recipient's work. NIST rates five
 * elements and adds them, the "previously warned/trained" element counting against alignment.
 * We rate each element 0-2 and band the total (max 8): high >= 6, medium 3-5, low <= 2. This is
 * a simplification of NIST's weighting, stated here so results can be compared honestly.
 * Step 3, the table of TN 2276 (Table 4) gives the detection difficulty; we name its three levels
 * easy (least difficult), medium (moderately difficult), hard (very difficult).
 */
export type CueBand = 'few' | 'some' | 'many';
export type PremiseBand = 'low' | 'medium' | 'high';

export function cueBand(count: number): CueBand {
  if (count <= 8) return 'few';
  if (count <= 14) return 'some';
  return 'many';
}

export function premiseScore(p: PremiseAlignment): number {
  return Math.max(0, p.mimicsWorkplaceProcess + p.workplaceRelevance + p.alignsWithCurrentEvents + p.concernOverNotClicking - p.previouslyWarned);
}

export function premiseBand(p: PremiseAlignment): PremiseBand {
  const s = premiseScore(p);
  if (s >= 6) return 'high';
  if (s >= 3) return 'medium';
  return 'low';
}

const table: Record<CueBand, Record<PremiseBand, Difficulty>> = {
  few: { high: 'hard', medium: 'hard', low: 'medium' },
  some: { high: 'hard', medium: 'medium', low: 'easy' },
  many: { high: 'medium', medium: 'easy', low: 'easy' },
};

export function detectionDifficulty(cues: readonly PhishCue[], premise: PremiseAlignment): Difficulty {
  return table[cueBand(cues.length)][premiseBand(premise)];
}
