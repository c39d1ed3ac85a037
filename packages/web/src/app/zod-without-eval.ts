import { config } from 'zod';

// The protocol's schemas are built with zod, whose object parsers probe for `new Function` to
// compile fast paths. Our CSP forbids eval, so the probe would be reported as a violation on
// every page load. Imported first in main.tsx so it runs before any schema is created.
config({ jitless: true });
