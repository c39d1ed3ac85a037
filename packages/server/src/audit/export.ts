import type { AuditEntry } from '@consilium/protocol';

const CSV_COLUMNS = [
  'index', 'at', 'type', 'action', 'outcome', 'actor_account_id', 'actor_role', 'actor_email', 'on_behalf_of',
  'case_id', 'entity_type', 'entity_id', 'purpose_of_use', 'network_address', 'emergency', 'detail',
] as const;

/** RFC 4180 quoting; cells that a spreadsheet would run as a formula are prefixed with ' (CWE-1236). */
function csvCell(value: string | number | boolean | null): string {
  let s = value === null ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function auditCsv(entries: AuditEntry[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const e of entries) {
    lines.push(
      [
        e.index, e.at, e.type, e.action, e.outcome, e.actor.accountId, e.actor.role, e.actor.email, e.onBehalfOf,
        e.caseId, e.entity?.type ?? null, e.entity?.id ?? null, e.purposeOfUse, e.networkAddress, e.emergency, JSON.stringify(e.detail),
      ]
        .map(csvCell)
        .join(','),
    );
  }
  return lines.join('\r\n') + '\r\n';
}

const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const EVENT_SUBTYPE_SYSTEM = 'urn:consilium:audit-event-type';

/** DICOM audit event IDs (DCM) that FHIR R4 AuditEvent.type suggests, by our event area. */
function eventType(type: AuditEntry['type']): { system: string; code: string; display: string } {
  if (type.startsWith('auth.') || type.startsWith('mfa.')) return { system: DCM, code: '110114', display: 'User Authentication' };
  if (type === 'member.role_changed') return { system: DCM, code: '110136', display: 'Security Roles Changed' };
  if (type.startsWith('member.') || type.startsWith('invite.')) return { system: DCM, code: '110137', display: 'User Security Attributes Changed' };
  if (type.startsWith('audit.')) return { system: DCM, code: '110101', display: 'Audit Log Used' };
  return { system: DCM, code: '110100', display: 'Application Activity' };
}

/**
 * FHIR R4 AuditEvent (https://hl7.org/fhir/R4/auditevent.html) in a Bundle of type collection.
 * Outcome codes: 0 success, 4 minor failure. The patient, when there is one, is only the
 * pseudonymous case id.
 */
export function auditFhirBundle(entries: AuditEntry[], origin: string, generatedAt: string) {
  return {
    resourceType: 'Bundle',
    type: 'collection',
    timestamp: generatedAt,
    total: entries.length,
    entry: entries.map((e) => ({
      fullUrl: `urn:consilium:audit:${encodeURIComponent(origin)}:${e.index}`,
      resource: {
        resourceType: 'AuditEvent',
        id: `entry-${e.index}`,
        type: eventType(e.type),
        subtype: [{ system: EVENT_SUBTYPE_SYSTEM, code: e.type }],
        action: e.action,
        recorded: e.at,
        outcome: e.outcome === 'success' ? '0' : '4',
        purposeOfEvent: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: e.purposeOfUse }] }],
        agent: [
          {
            ...(e.actor.role ? { role: [{ coding: [{ system: 'urn:consilium:role', code: e.actor.role }] }] } : {}),
            who: e.actor.accountId
              ? { identifier: { system: 'urn:consilium:account', value: e.actor.accountId } }
              : { display: e.actor.email ? `unauthenticated (${e.actor.email})` : 'system' },
            requestor: true,
            ...(e.networkAddress ? { network: { address: e.networkAddress, type: '2' } } : {}),
            ...(e.emergency ? { purposeOfUse: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'ETREAT' }] }] } : {}),
          },
          ...(e.onBehalfOf ? [{ who: { identifier: { system: 'urn:consilium:account', value: e.onBehalfOf } }, requestor: false }] : []),
        ],
        source: {
          observer: { display: origin },
          type: [{ system: 'http://terminology.hl7.org/CodeSystem/security-source-type', code: '4', display: 'Application Server' }],
        },
        entity: [
          ...(e.entity
            ? [{ what: { identifier: { system: `urn:consilium:${e.entity.type}`, value: e.entity.id } }, type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '2', display: 'System Object' } }]
            : []),
          ...(e.caseId
            ? [{ what: { identifier: { system: 'urn:consilium:case', value: e.caseId } }, type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '1', display: 'Person' }, role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '1', display: 'Patient' } }]
            : []),
        ],
      },
    })),
  };
}
