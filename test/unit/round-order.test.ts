// bench/round-order.ts: the order of contenders in each round of bench/scale.ts, where a run's place
// in its round moves its time as much as the contenders differ.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { roundOrder } from '../../bench/round-order.ts';

const before = (order: string[], a: string, b: string) => order.indexOf(a) < order.indexOf(b);

test('over every two rounds, each pair of contenders runs once in each order', () => {
  for (const contenders of [
    ['ours', 'peer'],
    ['ours', 'peer', 'floor'],
    ['a', 'b', 'c', 'd'],
  ]) {
    for (let round = 1; round <= 8; round += 2) {
      const [odd, even] = [roundOrder(contenders, round), roundOrder(contenders, round + 1)];
      assert.equal([...odd].sort(), [...contenders].sort(), `round ${round} runs each contender once`);
      for (const a of contenders)
        for (const b of contenders)
          if (a !== b) assert.is.not(before(odd, a, b), before(even, a, b), `${a} and ${b} in rounds ${round} and ${round + 1}`);
    }
  }
});

test('round 1 is the order given; each contender goes first in turn', () => {
  const contenders = ['ours', 'peer', 'floor'];
  assert.equal(roundOrder(contenders, 1), contenders);
  assert.equal(roundOrder(contenders, 2), ['floor', 'peer', 'ours']);
  assert.equal(new Set([1, 2, 3, 4, 5, 6].map((round) => roundOrder(contenders, round)[0])), new Set(contenders));
});

test.run();
