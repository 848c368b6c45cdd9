// embed.js: live livedash widgets for any web page, as custom elements.
//   <script type="module" src="https://live.example.com/embed.js"></script>
//   <livedash-stat topic="shop.orders.count"></livedash-stat>
// See docs/client.md.

import { LivedashAlerts, LivedashChart, LivedashFeed, LivedashStat } from './elements';

const elements: [string, CustomElementConstructor][] = [
  ['livedash-stat', LivedashStat],
  ['livedash-chart', LivedashChart],
  ['livedash-feed', LivedashFeed],
  ['livedash-alerts', LivedashAlerts],
];
for (const [name, ctor] of elements) if (!customElements.get(name)) customElements.define(name, ctor);

export { LivedashAlerts, LivedashChart, LivedashFeed, LivedashStat };
