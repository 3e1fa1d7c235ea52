import { test, expect } from '@playwright/test';
import { PASSWORD, open, register, screenshot, signIn, waitForMail } from './helpers';

test('a user moves their account to a new address through its link, then deletes the account', async ({ page, context, request }) => {
  const user = await register(request, 'customer', 'Ava Moving');
  const newEmail = `moved-${Date.now().toString(36)}@example.com`;
  await signIn(context, user);
  await open(page, '/account');
  await page.getByLabel('New email address').fill(newEmail);
  await page.locator('#email_password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Send a link to the new address' }).click();
  await expect(page.getByTestId('email-change-sent')).toContainText('emailed a link to the new address');
  // Nothing changes before the new address confirms; the old one is told.
  await expect(page.getByTestId('account-email')).toHaveText(user.email);
  await waitForMail(user.email, '🔔 A change of your email address was requested');

  const mail = await waitForMail(newEmail, '📧 Confirm your new email address');
  const link = new URL((mail.text ?? '').split('\n').find((l) => l.includes('/confirm-email-change?token='))!.trim());
  await open(page, link.pathname + link.search);
  await page.getByRole('button', { name: 'Use this address' }).click();
  await expect(page.getByTestId('email-changed')).toBeVisible();
  await waitForMail(user.email, '✉️ Your email address was changed');
  await open(page, '/account');
  await expect(page.getByTestId('account-email')).toHaveText(newEmail);

  // A wrong password deletes nothing.
  await page.locator('#delete_password').fill('not-my-password');
  await page.getByLabel('I want my account deleted').check();
  await page.getByTestId('delete-account').click();
  await expect(page.getByRole('alert')).toContainText('The current password is not right');
  await page.locator('#delete_password').fill(PASSWORD);
  await page.getByLabel('I want my account deleted').check();
  await screenshot(page, 'account-delete');
  await page.getByTestId('delete-account').click();
  await expect(page.getByTestId('account-deleted')).toBeVisible();
  await expect(page.getByTestId('nav-user')).toHaveCount(0);
  await waitForMail(newEmail, '👋 Your Specialistly account was deleted');
  const login = await request.post('/api/auth/login', { data: { email: newEmail, password: PASSWORD } });
  expect(login.status()).toBe(401);
});
