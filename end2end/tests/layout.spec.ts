import { test, expect } from './fixtures';
import { book, createSlot, open, register, screenshot, signIn } from './helpers';

test('every page fits a 360 px wide screen', async ({ browser, request }) => {
  const specialist = await register(request, 'specialist', 'Dr. Narrow Screen With A Long Name');
  const customer = await register(request, 'customer', 'Nina Narrow');
  const slot = await createSlot(request, specialist, { title: 'A session with a rather long title for a small screen' });
  await book(request, customer, slot.id);

  const context = await browser.newContext({ viewport: { width: 360, height: 740 } });
  const page = await context.newPage();
  const fits = async (path: string) => {
    await open(page, path);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(width, `${path} is ${width} px wide`).toBeLessThanOrEqual(360);
  };

  await fits('/');
  await fits('/login');
  await fits('/register');
  await fits('/forgot-password');
  await signIn(context, customer);
  await fits('/slots');
  await fits('/appointments');
  await fits(`/appointments/${slot.id}/0`);
  await signIn(context, specialist);
  await fits('/specialist');
  await fits('/specialist/meetings');
  await fits('/specialist/slots');
  await fits('/specialist/availability');
  await fits('/account');
  await screenshot(page, 'narrow-my-slots');
  await context.close();
});
