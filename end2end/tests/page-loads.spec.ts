import { test, expect } from './fixtures';
import { book, createSlot, register, signIn } from './helpers';

/**
 * Every page of the walk-through, loaded again and again in one tab as a user clicks around:
 * each load must finish (its `load` event, the wasm bundle hydrated) within a few seconds.
 * A page whose load never finished once failed CI (`/integrations`); a page that only
 * sometimes never finishes shows up here, not as a rare timeout elsewhere.
 */
const ROUNDS = 8;
const WITHIN_MS = 5_000;

test('every page of the walk-through finishes loading, every time, within a few seconds', async ({ browser, request }) => {
  test.setTimeout(240_000);
  const specialist = await register(request, 'specialist', 'Dr. Reload');
  const customer = await register(request, 'customer', 'Ray Reload');
  const slot = await createSlot(request, specialist, { hours: 24 * 45, capacity: 2, title: 'Reloaded session' });
  const index = await book(request, customer, slot.id);
  const appointment = `/appointments/${slot.id}/${index}`;
  const visits: Array<[string, typeof customer | null, string[]]> = [
    ['anonymous', null, ['/', '/login', '/slots']],
    ['customer', customer, ['/slots', '/appointments', appointment, '/integrations']],
    ['specialist', specialist, ['/specialist', '/specialist/meetings', '/specialist/slots', appointment, '/integrations']],
  ];
  const slow: string[] = [];
  for (const [who, user, paths] of visits) {
    const context = await browser.newContext();
    if (user) await signIn(context, user);
    const page = await context.newPage();
    for (let round = 0; round < ROUNDS; round++) {
      for (const path of paths) {
        const started = Date.now();
        try {
          const res = await page.goto(path, { waitUntil: 'load', timeout: WITHIN_MS });
          expect(res?.status(), `${who} ${path}`).toBeLessThan(400);
          await page.locator('html[data-hydrated]').waitFor({ state: 'attached', timeout: Math.max(1, WITHIN_MS - (Date.now() - started)) });
        } catch (e) {
          slow.push(`${who} ${path} (round ${round + 1}): not loaded within ${WITHIN_MS} ms: ${(e as Error).message.split('\n')[0]}`);
        }
      }
    }
    await context.close();
  }
  expect(slow, slow.join('\n')).toEqual([]);
});
