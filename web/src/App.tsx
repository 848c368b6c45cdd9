import { useEffect, useState } from 'react';
import { onUnauthorized } from './api/api';
import { SignIn } from './components/SignIn';
import { DashboardPage } from './pages/DashboardPage';
import { ExplorePage } from './pages/ExplorePage';
import { EditorPage } from './pages/EditorPage';
import { IndexPage } from './pages/IndexPage';
import { NotFound } from './pages/NotFound';
import { parseRoute, type Route } from './lib/route';
import { ThemeProvider } from './components/theme';

function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.pathname, location.search));
  useEffect(() => {
    const on = () => setRoute(parseRoute(location.pathname, location.search));
    addEventListener('popstate', on);
    return () => removeEventListener('popstate', on);
  }, []);
  return route;
}

export function App() {
  const route = useRoute();
  const [needToken, setNeedToken] = useState<string | null>(null);
  useEffect(() => onUnauthorized((e) => setNeedToken(e.message)), []);

  let page;
  switch (route.page) {
    case 'index':
      page = <IndexPage />;
      break;
    case 'dashboard':
      page = <DashboardPage key={route.name} name={route.name} />;
      break;
    case 'edit':
      page = <EditorPage key={route.name ?? ''} name={route.name} />;
      break;
    case 'embed':
      page = <DashboardPage key={route.name + '/' + (route.widget ?? '')} name={route.name} embed widgetId={route.widget} />;
      break;
    case 'explore':
      page = <ExplorePage key={route.patterns.join('\n')} patterns={route.patterns} />;
      break;
    default:
      page = <NotFound path={route.path} />;
  }
  return (
    <ThemeProvider>
      {needToken !== null ? <SignIn reason={needToken} /> : page}
    </ThemeProvider>
  );
}
