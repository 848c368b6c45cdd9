import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { App } from './App';
import { captureToken } from './lib/token';
import { applyTheme, storedTheme, systemTheme } from './lib/theme';

captureToken();
const params = new URLSearchParams(location.search);
const forced = params.get('theme');
applyTheme(forced === 'light' || forced === 'dark' ? forced : (storedTheme() ?? systemTheme()));

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
