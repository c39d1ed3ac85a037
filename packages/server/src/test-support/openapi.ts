import { randomBytes, randomUUID } from 'node:crypto';
import type { TestClient } from './harness.js';

export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, any>>;
  components?: Record<string, Record<string, unknown>>;
}

export interface Operation {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** As the document writes it: /api/v1/org/members/{id} */
  path: string;
  /** A requestable URL: path parameters filled with well-formed values that name nothing. */
  url: string;
  /** "PATCH /api/v1/org/members/{id}" */
  key: string;
  spec: any;
}

const methods = ['get', 'post', 'put', 'patch', 'delete'] as const;

export async function fetchOpenApi(client: TestClient): Promise<OpenApiDocument> {
  const r = await client.get<OpenApiDocument>('/api/v1/openapi.json');
  if (r.status !== 200) throw new Error(`openapi.json: ${r.status}`);
  return r.body;
}

/** Fills {param} with a value of the right format: a random UUID, or a random 43-character token. */
export function fillPath(path: string): string {
  return path.replace(/\{([^}]+)\}/g, (_, name: string) => (name === 'token' ? randomBytes(32).toString('base64url') : randomUUID()));
}

export function operations(doc: OpenApiDocument): Operation[] {
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const m of methods) {
      if (!item[m]) continue;
      const method = m.toUpperCase() as Operation['method'];
      ops.push({ method, path, url: fillPath(path), key: `${method} ${path}`, spec: item[m] });
    }
  }
  return ops;
}

/** Resolves a local JSON Pointer reference (RFC 6901) such as "#/components/schemas/Member". */
export function resolvePointer(doc: unknown, ref: string): unknown {
  if (!ref.startsWith('#')) return undefined;
  let node: unknown = doc;
  for (const raw of ref.slice(1).split('/').slice(1)) {
    const token = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, token)) return undefined;
    node = (node as Record<string, unknown>)[token];
  }
  return node;
}

/** Every "$ref" string in the document, with where it was found. */
export function collectRefs(node: unknown, at = '#', out: { at: string; ref: string }[] = []): { at: string; ref: string }[] {
  if (Array.isArray(node)) node.forEach((v, i) => collectRefs(v, `${at}/${i}`, out));
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') out.push({ at, ref: v });
      else collectRefs(v, `${at}/${k}`, out);
    }
  }
  return out;
}
