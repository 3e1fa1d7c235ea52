// Brings a page's islands to life, and loads the wasm bundle only when the page has one: a
// page that is all server HTML (a specialist's page, the slots for a visitor) stays light.
// Called with the bundle's JS and wasm addresses.
((js, wasm) => {
  const root = document.documentElement;
  if (!document.querySelector('leptos-island')) {
    // Nothing to hydrate: the page is as live as it gets.
    root.setAttribute('data-hydrated', '');
    return;
  }
  // Each island is hydrated by the function its `data-component` names; an island's
  // `leptos-children` are hydrated with the callback the island left on that element.
  const childrenCallbacks = [];
  async function visit(node, mod) {
    if (node.nodeType !== Node.ELEMENT_NODE) return;
    const tag = node.tagName.toLowerCase();
    if (tag === 'leptos-island') {
      const hydrateIsland = mod[node.dataset.component];
      if (hydrateIsland) {
        const children = childrenCallbacks[childrenCallbacks.length - 1];
        if (children) children();
        await hydrateIsland(node);
      } else {
        console.warn(`no wasm function for the island ${node.dataset.component}`);
      }
    } else if (tag === 'leptos-children') {
      childrenCallbacks.push(node.$$on_hydrate);
      for (const child of node.children) await visit(child, mod);
      childrenCallbacks.pop();
      return;
    }
    for (const child of node.children) await visit(child, mod);
  }
  const start = () =>
    import(js)
      .then(async (mod) => {
        await mod.default({ module_or_path: wasm });
        mod.hydrate();
        await visit(document.body, mod);
      })
      .catch((e) => {
        // The page stays server HTML (its links and plain forms still work); it says why it
        // did not come alive instead of waiting for good.
        root.setAttribute('data-hydration-failed', String((e && e.message) || e));
        console.error('the page could not load its wasm bundle:', e);
      });
  // Off the critical path, as Leptos' own island script does, but within two seconds even on
  // a page that is never idle.
  if ('requestIdleCallback' in window) window.requestIdleCallback(start, { timeout: 2000 });
  else start();
})
