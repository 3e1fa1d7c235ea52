import { test, expect } from './fixtures';
import { book, createSlot, open, register, screenshot, signIn, waitForMail } from './helpers';

test('a customer joins the waitlist of a full slot and is booked when a seat opens', async ({ page, context, request }) => {
  const specialist = await register(request, 'specialist', 'Dr. Waitlist');
  const holder = await register(request, 'customer', 'Holly Holder');
  const waiter = await register(request, 'customer', 'Walt Waiter');
  const slot = await createSlot(request, specialist, { hours: 60, capacity: 1, title: 'Popular session' });
  const index = await book(request, holder, slot.id);

  await signIn(context, waiter);
  await open(page, '/slots');
  const card = page.getByTestId('slot-card').filter({ hasText: 'Popular session' });
  await expect(card.getByTestId('seats-left')).toHaveText('0 of 1 seats left');
  await card.getByTestId('join-waitlist').click();
  await expect(card.getByTestId('waitlist-position')).toHaveText('You are #1 on the waitlist.');
  await open(page, '/appointments');
  await expect(page.getByTestId('waitlist-place').filter({ hasText: 'Popular session' })).toContainText('#1 in line');
  await screenshot(page, 'waitlist-waiting');

  const res = await request.post(`/api/consulting-slots/${slot.id}/booking/${index}/cancel`, {
    headers: { Authorization: `Bearer ${holder.token}` },
    data: {},
  });
  expect(res.status()).toBe(200);
  await waitForMail(waiter.email, '✅ A seat opened up');
  await open(page, '/appointments');
  await expect(page.getByTestId('waitlist-place')).toHaveCount(0);
  await expect(page.getByTestId('my-appointment').filter({ hasText: 'Popular session' })).toBeVisible();
  await screenshot(page, 'waitlist-promoted');
});
