// Batches by padded-token budget over length-sorted inputs. Padding every text to the
// longest of 32 mixed-length texts made a batch 3.5× slower than sending them one by one;
// sorting first keeps neighbours of similar length, and the budget bounds both the wasted
// work and the activation memory of one run.

/** Groups of input indices; each group's size × its longest length stays within `budget` (a single over-long input forms its own group). */
export function planBatches(lengths: readonly number[], budget: number, maxRows = Infinity): number[][] {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[a] - lengths[b] || a - b);
  const batches: number[][] = [];
  let current: number[] = [];
  let longest = 0;
  for (const i of order) {
    const len = lengths[i];
    const wouldBe = Math.max(longest, len) * (current.length + 1);
    if (current.length > 0 && (wouldBe > budget || current.length >= maxRows)) {
      batches.push(current);
      current = [];
      longest = 0;
    }
    current.push(i);
    longest = Math.max(longest, len);
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
