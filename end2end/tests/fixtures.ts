import { test as base, expect, BrowserContext } from '@playwright/test';

/**
 * Every spec runs with a guard: any Content-Security-Policy violation reported in a page's
 * console (the default context's or one a spec opens itself) fails the test.
 */
export const test = base.extend<{ cspGuard: void }>({
  cspGuard: [
    async ({ context, browser }, use) => {
      const violations: string[] = [];
      const watch = (ctx: BrowserContext) =>
        ctx.on('console', (msg) => {
          const text = msg.text();
          if (/Content Security Policy|Refused to (execute|load|apply|connect|frame)/i.test(text)) {
            violations.push(`${msg.location().url}: ${text}`);
          }
        });
      watch(context);
      const newContext = browser.newContext.bind(browser);
      browser.newContext = async (...args: Parameters<typeof browser.newContext>) => {
        const ctx = await newContext(...args);
        watch(ctx);
        return ctx;
      };
      await use();
      browser.newContext = newContext;
      expect(violations, 'Content-Security-Policy violations').toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };
