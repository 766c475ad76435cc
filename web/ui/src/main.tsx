import { render } from 'preact'
import { App } from './App'
import './styles.css'

render(<App />, document.getElementById('app')!)

// The service worker shows "you are offline" when the webmail cannot be
// reached (public/sw.js); it caches no mail.
if ('serviceWorker' in navigator) {
  window.addEventListener('load', () => { navigator.serviceWorker.register('/sw.js').catch(() => undefined) })
}
