// Builds the console into dist/console, where the query API serves it from.
// Prints what the browser downloads on first load (the entry script and the
// chunks and styles it imports statically), compressed, and fails the build
// over the budget; then each chunk loaded on demand, apart.
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const FIRST_LOAD_BUDGET = 250 * 1024;

function firstLoadSize(): Plugin {
  return {
    name: 'actorlog-first-load-size',
    apply: 'build',
    generateBundle(_options, bundle) {
      const entry = Object.values(bundle).find((c) => c.type === 'chunk' && c.isEntry);
      if (!entry || entry.type !== 'chunk') return;
      const seen = new Set<string>();
      const visit = (name: string) => {
        if (seen.has(name)) return;
        seen.add(name);
        const chunk = bundle[name];
        if (chunk?.type === 'chunk') chunk.imports.forEach(visit);
      };
      visit(entry.fileName);
      let js = 0;
      for (const name of seen) {
        const chunk = bundle[name];
        if (chunk?.type === 'chunk') js += gzipSync(chunk.code, { level: 9 }).length;
      }
      const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
      this.info(`first load: ${kb(js)} of gzip-compressed JavaScript in ${seen.size} file(s) (budget ${kb(FIRST_LOAD_BUDGET)})`);
      process.stdout.write(`console first load: ${kb(js)} gzip JavaScript (budget ${kb(FIRST_LOAD_BUDGET)})\n`);
      // What is loaded on demand (the graph layout and its worker, the OIDC
      // and report-verification code) is said apart: it is not in the
      // budget, but its cost is paid when it is first used.
      for (const item of Object.values(bundle)) {
        if (seen.has(item.fileName) || !item.fileName.endsWith('.js')) continue;
        const code = item.type === 'chunk' ? item.code : item.source;
        const name = item.type === 'chunk' ? item.name : `${item.names[0] ?? item.fileName} (worker)`;
        process.stdout.write(`console lazy ${name}: ${kb(gzipSync(code, { level: 9 }).length)} gzip JavaScript (loaded on demand, not in the first load)\n`);
      }
      if (js > FIRST_LOAD_BUDGET) this.error(`the console's first load is ${kb(js)} of compressed JavaScript, over the ${kb(FIRST_LOAD_BUDGET)} budget`);
    },
  };
}

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  logLevel: 'warn',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  resolve: { alias: { react: 'preact/compat', 'react-dom': 'preact/compat' } },
  build: {
    outDir: fileURLToPath(new URL('../dist/console', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // No inline scripts or styles: the page's CSP allows none.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },

  },
  plugins: [firstLoadSize()],
});
