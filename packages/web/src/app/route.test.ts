import { describe, expect, it } from 'vitest';
import { parseRoute, routeHref, type Route } from './route';

describe('case routes', () => {
  it('reads the case list and one case from the address', () => {
    expect(parseRoute('#/cases')).toEqual({ name: 'cases' });
    expect(parseRoute('#/cases/')).toEqual({ name: 'cases' });
    expect(parseRoute('#/cases/0b9f6a52-6c2f-4c1e-9d55-1f1f0c7a1e01')).toEqual({ name: 'case', id: '0b9f6a52-6c2f-4c1e-9d55-1f1f0c7a1e01' });
    expect(parseRoute('#/cases/a/b')).toEqual({ name: 'not-found' });
    expect(parseRoute('#/admin/oncall')).toEqual({ name: 'admin', tab: 'oncall' });
  });

  it('writes addresses that read back as the same route, with ids encoded', () => {
    const routes: Route[] = [{ name: 'cases' }, { name: 'case', id: 'a/b?c' }, { name: 'admin', tab: 'oncall' }];
    for (const route of routes) expect(parseRoute(routeHref(route))).toEqual(route);
    expect(routeHref({ name: 'case', id: 'a/b?c' })).toBe('#/cases/a%2Fb%3Fc');
  });
});
