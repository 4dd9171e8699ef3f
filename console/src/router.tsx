// The console's state lives in its URL: the path names the view, the query
// string holds its filters, so a URL pasted into a ticket opens the same view.
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';

const listeners = new Set<() => void>();

export function navigate(href: string, options: { replace?: boolean } = {}): void {
  if (options.replace) history.replaceState(null, '', href);
  else history.pushState(null, '', href);
  listeners.forEach((l) => l());
  if (!options.replace) window.scrollTo(0, 0);
}

window.addEventListener('popstate', () => listeners.forEach((l) => l()));

export interface Location {
  path: string;
  query: URLSearchParams;
  href: string;
}

function current(): Location {
  return { path: location.pathname, query: new URLSearchParams(location.search), href: location.pathname + location.search };
}

export function useLocation(): Location {
  const [loc, setLoc] = useState(current);
  useEffect(() => {
    const update = () => setLoc(current());
    listeners.add(update);
    return () => void listeners.delete(update);
  }, []);
  return loc;
}

// Matches `/events/:id` style patterns; values are decoded.
export function match(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split('/');
  const s = path.split('/');
  if (p.length !== s.length) return null;
  const out: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    const part = p[i]!;
    if (part.startsWith(':')) {
      if (!s[i]) return null;
      out[part.slice(1)] = decodeURIComponent(s[i]!);
    } else if (part !== s[i]) return null;
  }
  return out;
}

export const enc = encodeURIComponent;

export function Link(props: { href: string; children: ComponentChildren; class?: string; title?: string; 'aria-label'?: string; 'aria-current'?: 'page' }) {
  const { href, children, ...rest } = props;
  const onClick = (e: MouseEvent) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(href);
  };
  return (
    <a href={href} onClick={onClick} {...rest}>
      {children}
    </a>
  );
}
