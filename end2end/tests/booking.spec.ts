import { test, expect } from './fixtures';
import { createSlot, hydrated, open, register, screenshot, signIn, waitForMail } from './helpers';

const SUCCESS =
  'Your consulting slot has been booked successfully! Check your email for confirmation details. The specialist will create your Zoom meeting link shortly.';

test('a customer books through the modal and the specialist sees one seat fewer', async ({ page, context, request }) => {
  const specialist = await register(request, 'specialist', 'Dr. Booking Test');
  const customer = await register(request, 'customer', 'Bea Booker');
  const slot = await createSlot(request, specialist, { hours: 30, capacity: 3, title: 'Modal booking session' });

  await signIn(context, customer);
  await open(page, '/slots');
  const card = page.getByTestId('slot-card').filter({ hasText: slot.title });
  await expect(card.getByTestId('seats-left')).toHaveText('3 of 3 seats left');
  await card.getByRole('link', { name: 'Book' }).click();
  await hydrated(page, /\?book=/);

  const modal = page.getByRole('dialog');
  await expect(modal).toBeVisible();
  await expect(modal).toBeFocused();
  await expect(modal.getByRole('heading', { name: slot.title })).toBeVisible();
  await screenshot(page, 'booking-modal');
  await page.keyboard.press('Escape');
  await expect(page.getByRole('dialog')).toHaveCount(0);

  await card.getByRole('link', { name: 'Book' }).click();
  await hydrated(page, /\?book=/);
  await modal.getByLabel('Notes for the specialist (optional)').fill('Looking forward to it');
  await modal.getByRole('button', { name: 'Confirm booking' }).click();
  await expect(modal.getByTestId('booking-success')).toContainText(SUCCESS);
  await screenshot(page, 'booking-success');
  await expect(modal.getByRole('link', { name: 'View appointment details' })).toHaveAttribute('href', `/appointments/${slot.id}/0`);

  const confirmation = await waitForMail(customer.email, '✅ Appointment Confirmed');
  expect(confirmation.text).toContain('Dr. Booking Test');
  expect(confirmation.attachments.some((a) => a.filename === 'invite.ics')).toBe(true);
  await waitForMail(specialist.email, '🎯 New Appointment: Bea Booker');

  await signIn(context, specialist);
  await open(page, '/specialist/slots');
  const row = page.getByTestId('my-slot-row').filter({ hasText: slot.title });
  await expect(row.getByTestId('my-slot-seats-left')).toHaveText('2');
  await expect(row).toContainText('1 / 3 booked');
});

test('without JavaScript the booking form still works', async ({ browser, request }) => {
  const specialist = await register(request, 'specialist', 'Dr. No Script');
  const customer = await register(request, 'customer', 'Nora Noscript');
  const slot = await createSlot(request, specialist, { hours: 40, capacity: 1, title: 'Plain form session' });
  const context = await browser.newContext({ javaScriptEnabled: false });
  await signIn(context, customer);
  const page = await context.newPage();
  await page.goto(`/slots?book=${slot.id}`);
  await page.getByRole('button', { name: 'Confirm booking' }).click();
  await expect(page).toHaveURL(new RegExp(`/appointments/${slot.id}/0`));
  await expect(page.getByText(SUCCESS)).toBeVisible();
  await context.close();
});
