import type { FastifyPluginAsync } from 'fastify';

// A placeholder until the web page (search, time range, live tail, histogram) lands.
const PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>logwharf</title></head>
<body>
<h1>logwharf is running</h1>
<p>The web page is not built yet. The HTTP API answers under <code>/api/v1</code>:</p>
<ul>
<li><a href="api/v1/search?q=&amp;from=15m&amp;limit=100">api/v1/search?q=&amp;from=15m&amp;limit=100</a> &mdash; the newest events</li>
<li><a href="api/v1/sources">api/v1/sources</a> &mdash; attached containers and syslog peers</li>
<li><a href="healthz">healthz</a>, <a href="readyz">readyz</a></li>
</ul>
</body>
</html>
`;

export const homeRoute: FastifyPluginAsync = async (app) => {
  app.get('/', async (_request, reply) => reply.type('text/html; charset=utf-8').send(PAGE));
};
