import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Role } from '@consilium/protocol';
import type { Deps } from '../deps.js';
import { createOrganisation } from '../orgs/service.js';
import { getOrganisationBySlug, insertDepartment } from '../orgs/store.js';
import { createAccount } from '../accounts/service.js';
import { systemActor } from '../audit/record.js';
import { updateAccount } from '../accounts/store.js';
import { iso } from '../deps.js';
import { replaceRoster } from '../cases/store.js';

export const DEMO_ORG_NAME = 'Demo Hospital';
const DEPARTMENTS = ['Cardiology', 'Emergency Department', 'Internal Medicine', 'Radiology', 'Information Security'] as const;

// Fictional staff on the reserved .test domain (RFC 2606); no real person, no patient data.
const PEOPLE: { email: string; name: string; role: Role; department: (typeof DEPARTMENTS)[number]; licence?: string }[] = [
  { email: 'admin@demo-hospital.test', name: 'Avery Admin', role: 'admin', department: 'Information Security' },
  { email: 'casey.cardio@demo-hospital.test', name: 'Dr Casey Cardio', role: 'clinician', department: 'Cardiology', licence: '19000000101' },
  { email: 'robin.rhythm@demo-hospital.test', name: 'Dr Robin Rhythm', role: 'clinician', department: 'Cardiology', licence: '19000000303' },
  { email: 'emery.er@demo-hospital.test', name: 'Dr Emery Urgent', role: 'clinician', department: 'Emergency Department', licence: '19000000202' },
  { email: 'noor.nurse@demo-hospital.test', name: 'Noor Nurse', role: 'nurse', department: 'Internal Medicine' },
  { email: 'sasha.security@demo-hospital.test', name: 'Sasha Security', role: 'security_officer', department: 'Information Security' },
];

/** Who is on call, step by step (step 1 is paged first). */
const ONCALL: Partial<Record<(typeof DEPARTMENTS)[number], string[]>> = {
  Cardiology: ['casey.cardio@demo-hospital.test', 'robin.rhythm@demo-hospital.test'],
  'Emergency Department': ['emery.er@demo-hospital.test'],
};

export interface DemoCredential {
  email: string;
  name: string;
  role: Role;
  password: string;
}

/** Readable random password: 4 groups of 4 characters (about 90 bits). */
function demoPassword(): string {
  const raw = randomBytes(12).toString('base64url').replace(/[-_]/g, 'x').slice(0, 16);
  return raw.match(/.{4}/g)!.join('-');
}

const credentialsFile = (deps: Deps) => path.join(deps.config.dataDir, 'demo-credentials.json');

/**
 * Seeds "Demo Hospital" once. Passwords are random per install, written only to a 0600 file in
 * the data directory (so `npm start` can print them again), never to the repository.
 */
export async function seedDemo(deps: Deps): Promise<{ created: boolean; credentials: DemoCredential[] }> {
  const file = credentialsFile(deps);
  if (await getOrganisationBySlug(deps.db, 'demo-hospital')) {
    const credentials = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as DemoCredential[]) : [];
    return { created: false, credentials };
  }
  const org = await createOrganisation(deps, DEMO_ORG_NAME, { requireMfa: true, idleTimeoutMinutes: 15 });
  const departmentIds = new Map<string, string>();
  for (const name of DEPARTMENTS) {
    const id = randomUUID();
    await insertDepartment(deps.db, { id, organisation_id: org.id, name, created_at: iso(deps.now()) });
    departmentIds.set(name, id);
  }
  const credentials: DemoCredential[] = [];
  const accountIds = new Map<string, string>();
  let adminId: string | null = null;
  for (const person of PEOPLE) {
    const password = demoPassword();
    const account = await createAccount(deps, systemActor(org.id), {
      organisationId: org.id,
      email: person.email,
      displayName: person.name,
      role: person.role,
      departmentId: departmentIds.get(person.department) ?? null,
      password,
    });
    adminId ??= account.id;
    if (person.licence) {
      await updateAccount(deps.db, account.id, {
        verification_level: 'licence_verified',
        licence_register: 'BIG',
        licence_number: person.licence,
        verification_evidence: 'demo data: fictional register entry',
        verified_by: adminId,
        verified_at: iso(deps.now()),
      });
    }
    credentials.push({ email: person.email, name: person.name, role: person.role, password });
    accountIds.set(person.email, account.id);
  }
  // On-call rosters, so a consult to Cardiology pages Casey first and Robin after the step timeout.
  for (const [department, steps] of Object.entries(ONCALL)) {
    const departmentId = departmentIds.get(department)!;
    await replaceRoster(
      deps.db,
      departmentId,
      steps.map((email, i) => ({ id: randomUUID(), organisation_id: org.id, department_id: departmentId, step: i + 1, account_id: accountIds.get(email)!, starts_at: null, ends_at: null, created_at: iso(deps.now()) })),
    );
  }
  writeFileSync(file, JSON.stringify(credentials, null, 2) + '\n', { mode: 0o600 });
  return { created: true, credentials };
}
