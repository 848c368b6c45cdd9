import { Link } from '../components/Link';

export function NotFound({ path }: { path: string }) {
  return (
    <main className="center-page">
      <div className="panel">
        <h1>Page not found</h1>
        <p className="muted">
          There is nothing at <code>{path}</code>.
        </p>
        <p>
          <Link to="/">All dashboards</Link>
        </p>
      </div>
    </main>
  );
}
