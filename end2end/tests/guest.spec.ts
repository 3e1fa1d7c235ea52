import { test, expect } from '@playwright/test';
import { createSlot, open, register, screenshot, waitForMail } from './helpers';

/** The manage link in an email's text, as a path on this server. */
function manageLink(text: string | undefined): string {
  const line = (text ?? '').split('\n').find((l) => l.includes('/manage/'));
  expect(line, 'a manage link in the email').toBeTruthy();
  return new URL(line!.trim()).pathname;
}

test('a visitor books as a guest, confirms from the emailed link and cancels from the next email', async ({ page, request }) => {
  const specialist = await register(request, 'specialist', 'Gwen Guestfriendly');
  const handle = `gwen-${Date.now().toString(36)}`;
  const saved = await request.put('/api/profile/page', {
    headers: { Authorization: `Bearer ${specialist.token}` },
    data: { handle, guestBooking: 'confirm' },
  });
  expect(saved.status()).toBe(200);
  const slot = await createSlot(request, specialist, { hours: 72, capacity: 2, title: 'Guest-friendly session' });
  const email = `guest-${Date.now().toString(36)}@example.com`;

  // No account, no session: the specialist's page offers booking with a name and an email.
  await open(page, `/s/${handle}`);
  await page.getByTestId('open-session').filter({ hasText: 'Guest-friendly session' }).getByRole('link', { name: 'Book' }).click();
  const dialog = page.getByTestId('visitor-booking');
  await expect(dialog).toBeVisible();
  await dialog.getByLabel('Your name').fill('Gabe Guest');
  await dialog.getByLabel('Your email').fill(email);
  await dialog.getByRole('button', { name: 'Book as guest' }).click();
  await expect(page.getByTestId('guest-booked')).toContainText('held your seat for 30 minutes');
  await screenshot(page, 'guest-booked');

  // The emailed link confirms the held seat.
  const hold = await waitForMail(email, '⏳ Confirm your booking');
  const link = manageLink(hold.text);
  await open(page, link);
  await expect(page.getByTestId('manage-status')).toContainText('Awaiting your confirmation');
  await page.getByTestId('confirm-booking').click();
  await expect(page.getByTestId('manage-done')).toContainText('confirmed');
  await expect(page.getByTestId('manage-status')).toHaveText('Confirmed');
  await expect(page.getByTestId('manage-zoom')).toContainText('Zoom meeting pending');
  await screenshot(page, 'guest-confirmed');

  // Every email about the booking carries the same link: cancel from the confirmation.
  const confirmed = await waitForMail(email, '✅ Appointment Confirmed');
  expect(manageLink(confirmed.text)).toBe(link);
  await open(page, link);
  await page.getByLabel('Reason for cancelling (optional)').fill('Plans changed');
  await page.getByTestId('cancel-booking').click();
  await expect(page.getByTestId('manage-done')).toContainText('cancelled');
  await expect(page.getByTestId('manage-status')).toHaveText('Cancelled');
  await waitForMail(email, '❌ Appointment Cancelled');

  // A forged link shows a clear error, not someone's booking.
  await open(page, `${link.slice(0, -2)}xx`);
  await expect(page.getByRole('alert')).toContainText('not valid');
});

test('a specialist who takes accounts only shows visitors the way to log in', async ({ page, request }) => {
  const specialist = await register(request, 'specialist', 'Olga Accountsonly');
  const handle = `olga-${Date.now().toString(36)}`;
  const saved = await request.put('/api/profile/page', {
    headers: { Authorization: `Bearer ${specialist.token}` },
    data: { handle, guestBooking: 'off' },
  });
  expect(saved.status()).toBe(200);
  await createSlot(request, specialist, { hours: 72, title: 'Accounts-only session' });
  await open(page, `/s/${handle}`);
  await page.getByTestId('open-session').getByRole('link', { name: 'Book' }).click();
  const dialog = page.getByTestId('visitor-booking');
  await expect(dialog).toContainText('customers with an account');
  await expect(dialog.getByTestId('guest-form')).toHaveCount(0);
  await expect(dialog.getByRole('link', { name: 'Log in' })).toBeVisible();
});
