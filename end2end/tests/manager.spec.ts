import { test, expect } from './fixtures';
import { book, createSlot, open, register, screenshot, signIn, waitForMail } from './helpers';

test('a running creation disables only its own button, with a spinner', async ({ page, context, request }) => {
  const specialist = await register(request, 'specialist', 'Dr. Spinner');
  const slot = await createSlot(request, specialist, { title: 'Spinner session' });
  for (const name of ['Sam Spin', 'Tia Spin']) {
    await book(request, await register(request, 'customer', name), slot.id);
  }
  await signIn(context, specialist);
  await open(page, '/specialist');
  await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible();

  // Hold the creation request for a moment to see the pending state.
  let release: () => void = () => {};
  const held = new Promise<void>((r) => (release = r));
  await page.route('**/api/create_zoom_meeting*', async (route) => {
    await held;
    await route.continue();
  });
  const group = page.getByTestId('mm-slot').filter({ hasText: 'Spinner session' });
  const first = group.getByTestId('mm-booking').filter({ hasText: 'Sam Spin' });
  const second = group.getByTestId('mm-booking').filter({ hasText: 'Tia Spin' });
  // The preview says what Create will make, before it is pressed.
  await first.getByText('Preview what will be created').click();
  await expect(first.getByTestId('preview-topic')).toHaveText('Consulting Session - Sam Spin');
  await expect(first.getByTestId('preview-host')).toContainText('simulated Zoom');
  await first.getByRole('button', { name: 'Create Zoom Meeting' }).click();
  await expect(first.getByTestId('create-zoom')).toBeDisabled();
  await expect(first.getByTestId('create-zoom')).toHaveText('Creating…');
  await expect(second.getByTestId('create-zoom')).toBeEnabled();
  await screenshot(page, 'manager-creating');
  release();
  await expect(first.getByRole('heading', { name: /Zoom Meeting Created/ })).toBeVisible();
  await expect(second.getByRole('heading', { name: /Zoom Meeting Not Created/ })).toBeVisible();
  await screenshot(page, 'dashboard');
});

test('copy falls back to a selection when the Clipboard API is missing', async ({ browser, request }) => {
  const specialist = await register(request, 'specialist', 'Dr. Fallback');
  const customer = await register(request, 'customer', 'Finn');
  const slot = await createSlot(request, specialist, { title: 'Fallback session' });
  await book(request, customer, slot.id);
  const context = await browser.newContext();
  await context.addInitScript(() => {
    Object.defineProperty(Navigator.prototype, 'clipboard', { get: () => undefined, configurable: true });
    const original = document.execCommand.bind(document);
    document.execCommand = (command: string, ...rest: any[]) => {
      if (command === 'copy') {
        const area = document.querySelector('textarea[style*="-1000px"]') as HTMLTextAreaElement | null;
        (window as any).__copied = area?.value;
      }
      return original(command, ...rest);
    };
  });
  await signIn(context, specialist);
  const page = await context.newPage();
  await open(page, '/specialist/meetings');
  const card = page.getByTestId('mm-slot').filter({ hasText: 'Fallback session' }).getByTestId('mm-booking');
  await card.getByRole('button', { name: 'Create Zoom Meeting' }).click();
  const password = (await card.getByTestId('meeting-password').textContent())!.trim();
  await card.getByRole('button', { name: 'Copy password' }).click();
  await expect(card.getByRole('button', { name: 'Copy password' })).toHaveText('Copied!');
  expect(await page.evaluate(() => (window as any).__copied)).toBe(password);
  await waitForMail(customer.email, '🎥 Zoom Meeting Ready');
  await context.close();
});

test('a customer is refused the Meeting Manager and a specialist the customer list', async ({ page, context, request }) => {
  const customer = await register(request, 'customer', 'Cleo');
  await signIn(context, customer);
  await open(page, '/specialist/meetings');
  await expect(page.getByRole('heading', { name: 'Not allowed' })).toBeVisible();
  await screenshot(page, 'forbidden');
  const specialist = await register(request, 'specialist', 'Dr. Nolist');
  await signIn(context, specialist);
  await open(page, '/appointments');
  await expect(page.getByRole('heading', { name: 'Not allowed' })).toBeVisible();
});
