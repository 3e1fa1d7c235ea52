import { test, expect } from './fixtures';
import { book, createSlot, open, register, screenshot, signIn, waitForMail } from './helpers';

test('a customer reschedules, then cancels, from the appointment page', async ({ page, context, request }) => {
  const specialist = await register(request, 'specialist', 'Dr. Lifecycle');
  const customer = await register(request, 'customer', 'Lia Lifecycle');
  const first = await createSlot(request, specialist, { hours: 50, capacity: 2, title: 'First time' });
  const second = await createSlot(request, specialist, { hours: 75, capacity: 2, title: 'Second time' });
  const index = await book(request, customer, first.id);

  await signIn(context, customer);
  await open(page, `/appointments/${first.id}/${index}`);
  await page.getByText('Reschedule…').click();
  const option = page.getByTestId('reschedule-option').filter({ hasText: 'Second time' });
  await option.getByRole('radio').check();
  await page.getByTestId('confirm-reschedule').click();
  await expect(page.getByTestId('moved-notice')).toBeVisible();
  await expect(page).toHaveURL(new RegExp(`/appointments/${second.id}/0`));
  await waitForMail(customer.email, '🔁 Appointment Rescheduled');

  // The old booking's page says where it went.
  await open(page, `/appointments/${first.id}/${index}`);
  await expect(page.getByTestId('appt-rescheduled')).toContainText('Rescheduled');
  await screenshot(page, 'appointment-rescheduled');

  await open(page, `/appointments/${second.id}/0`);
  await page.getByText('Cancel booking…').click();
  await page.getByLabel('Reason (optional, sent to the specialist)').fill('Plans changed');
  await page.getByTestId('confirm-cancel').click();
  const cancelled = page.getByTestId('appt-cancelled');
  await expect(cancelled).toContainText('Cancelled');
  await expect(cancelled).toContainText('Plans changed');
  await screenshot(page, 'appointment-cancelled');
  const mail = await waitForMail(specialist.email, '❌ Booking Cancelled');
  expect(mail.text).toContain('Plans changed');
});

test('past the cutoff the customer is told to contact the specialist', async ({ page, context, request }) => {
  const specialist = await register(request, 'specialist', 'Dr. Cutoff');
  const customer = await register(request, 'customer', 'Cole Cutoff');
  const slot = await createSlot(request, specialist, { hours: 5, capacity: 1, title: 'Soon' });
  const index = await book(request, customer, slot.id);
  await signIn(context, customer);
  await open(page, `/appointments/${slot.id}/${index}`);
  const closed = page.getByTestId('appt-change-closed');
  await expect(closed).toContainText('close 24 hours before the start');
  await expect(closed.getByRole('button', { name: 'Cancel booking' })).toBeDisabled();
});

test('a specialist cancels a booking from the Meeting Manager, with a reason', async ({ page, context, request }) => {
  const specialist = await register(request, 'specialist', 'Dr. Manager Cancel');
  const customer = await register(request, 'customer', 'Mia Managed');
  const slot = await createSlot(request, specialist, { hours: 30, capacity: 3, title: 'Manager cancel session' });
  await book(request, customer, slot.id);

  await signIn(context, specialist);
  await open(page, '/specialist/meetings');
  const group = page.getByTestId('mm-slot').filter({ hasText: 'Manager cancel session' });
  const card = group.getByTestId('mm-booking').filter({ hasText: 'Mia Managed' });
  await card.getByText('Cancel booking…').click();
  await card.getByLabel('Reason (sent to the customer)').fill('I am ill, sorry');
  await card.getByTestId('confirm-cancel-booking').click();
  const greyed = group.getByTestId('mm-cancelled').filter({ hasText: 'Mia Managed' });
  await expect(greyed).toContainText('Cancelled');
  await expect(greyed).toContainText('I am ill, sorry');
  await expect(greyed.getByRole('button', { name: 'Create Zoom Meeting' })).toHaveCount(0);
  await screenshot(page, 'manager-cancelled');
  const mail = await waitForMail(customer.email, '❌ Appointment Cancelled');
  expect(mail.text).toContain('I am ill, sorry');
});

test('without JavaScript a customer still cancels', async ({ browser, request }) => {
  const specialist = await register(request, 'specialist', 'Dr. No Script');
  const customer = await register(request, 'customer', 'Nat NoScript');
  const slot = await createSlot(request, specialist, { hours: 40, capacity: 1, title: 'Plain form cancel' });
  const index = await book(request, customer, slot.id);
  const context = await browser.newContext({ javaScriptEnabled: false });
  await signIn(context, customer);
  const page = await context.newPage();
  await page.goto(`/appointments/${slot.id}/${index}`);
  await page.getByText('Cancel booking…').click();
  await page.getByTestId('confirm-cancel').click();
  await expect(page.getByTestId('appt-cancelled')).toContainText('Cancelled');
  await context.close();
});
