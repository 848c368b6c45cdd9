import type { ReactNode } from 'react';
import type { StreamClient } from '../lib/stream';
import { ConnectionBadge } from './ConnectionBadge';
import { Link } from './Link';
import { Logo } from './SignIn';
import { ThemeToggle } from './theme';

export function Header({ title, stream, children }: { title?: string; stream?: StreamClient | null; children?: ReactNode }) {
  return (
    <header className="topbar">
      <div className="topbar-left">
        <Link to="/" className="brand" title="All dashboards">
          <Logo /> <span>livedash</span>
        </Link>
        {title ? (
          <>
            <span className="sep">/</span>
            <h1 className="title">{title}</h1>
          </>
        ) : null}
      </div>
      <div className="topbar-right">
        {children}
        {stream !== undefined ? <ConnectionBadge stream={stream} /> : null}
        <ThemeToggle />
      </div>
    </header>
  );
}
