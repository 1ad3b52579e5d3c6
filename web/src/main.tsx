import { render } from 'preact';
import './styles.css';
import './panels/index.ts';
import { App } from './app.tsx';

render(<App />, document.getElementById('app')!);
