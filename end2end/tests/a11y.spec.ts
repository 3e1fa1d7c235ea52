import AxeBuilder from '@axe-core/playwright';
import { test, expect } from './fixtures';
import { book, createSlot, open, register, signIn, waitForMail } from './helpers';

/** Every page, as each kind of visitor sees it, against axe-core's WCAG 2 A and AA rules and its best practices. */
test('every page passes axe-core WCAG 2 A/AA and best practice', async ({ browser, request }) => {
  const specialist = await register(request, 'specialist', 'Dr. Axe');
  const customer = await register(request, 'customer', 'Ali Axe');
  const slot = await createSlot(request, specialist, { hours: 60, capacity: 3, title: 'Accessible session' });
  const other = await createSlot(request, specialist, { hours: 90, capacity: 3, title: 'Another time' });
  const index = await book(request, customer, slot.id);
  const cancelledIndex = await book(request, customer, other.id);
  const res = await request.post(`/api/consulting-slots/${other.id}/booking/${cancelledIndex}/cancel`, {
    headers: { Authorization: `Bearer ${customer.token}` },
    data: { reason: 'Testing the cancelled state' },
  });
  expect(res.status()).toBe(200);
  const handle = `dr-axe-${Date.now().toString(36)}`;
  const page = await request.put('/api/profile/page', {
    headers: { Authorization: `Bearer ${specialist.token}` },
    data: { handle },
  });
  expect(page.status()).toBe(200);
  // The seat's own page, from the link in the customer's confirmation.
  const confirmation = await waitForMail(customer.email, '✅ Appointment Confirmed');
  const manage = new URL((confirmation.text ?? '').split('\n').find((l) => l.includes('/manage/'))!.trim()).pathname;

  const visits: Array<[string, typeof customer | null, string[]]> = [
    ['anonymous', null, ['/', '/login', '/register', '/forgot-password', '/reset-password?token=nope', '/slots', '/verify-email?token=nope', '/confirm-email-change?token=nope', `/s/${handle}?book=${slot.id}`, manage, '/no-such-page']],
    ['customer', customer, ['/slots', '/appointments', `/appointments/${slot.id}/${index}`, `/appointments/${other.id}/${cancelledIndex}`, '/specialist', '/integrations', '/account']],
    ['specialist', specialist, ['/specialist', '/specialist/meetings', '/specialist/slots', '/specialist/availability', `/appointments/${slot.id}/${index}`, '/integrations']],
  ];
  const failures: string[] = [];
  for (const [who, user, paths] of visits) {
    const context = await browser.newContext();
    if (user) await signIn(context, user);
    const page = await context.newPage();
    for (const path of paths) {
      await open(page, path);
      const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'best-practice']).analyze();
      for (const v of results.violations) {
        failures.push(`${who} ${path}: ${v.id} (${v.impact}) ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
      }
    }
    await context.close();
  }
  expect(failures, failures.join('\n')).toEqual([]);
});
