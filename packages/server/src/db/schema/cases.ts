export interface PatientCaseTable {
  id: string;
  organisation_id: string;
  department_id: string;
  urgency: string;
  status: string;
  opened_by: string;
  opened_at: string;
  answered_at: string | null;
  closed_at: string | null;
  closed_by: string | null;
  /** When a closed case's messages may be deleted (organisation retention policy). */
  purge_after: string | null;
  purged_at: string | null;
  updated_at: string;
}

export interface OnCallEntryTable {
  id: string;
  organisation_id: string;
  department_id: string;
  step: number;
  account_id: string;
  starts_at: string | null;
  ends_at: string | null;
  created_at: string;
}

export interface CasePageTable {
  case_id: string;
  organisation_id: string;
  state: string;
  step: number;
  step_count: number;
  step_started_at: string;
  next_action_at: string | null;
  notifications: number;
  accepted_by: string | null;
  accepted_at: string | null;
  version: number;
}

export interface CasePageTargetTable {
  case_id: string;
  step: number;
  account_id: string;
  notified_at: string | null;
  declined_at: string | null;
}

export interface CasePolicyTable {
  organisation_id: string;
  urgent_step_seconds: number;
  emergency_step_seconds: number;
  renotify_seconds: number;
  urgent_per_hour: number;
  retention_days_after_close: number | null;
  /** Default expiry of messages in new conversations and cases (null: kept). */
  message_expiry_days: number | null;
  updated_at: string;
}

export interface PatientInviteTable {
  id: string;
  organisation_id: string;
  conversation_id: string;
  label: string;
  token_hash: string;
  /** MAC (server key) of the 6-digit code, bound to the invitation id. */
  code_mac: string;
  created_by: string;
  created_at: string;
  expires_at: string;
  failed_attempts: number;
  accepted_at: string | null;
  accepted_by: string | null;
  revoked_at: string | null;
}

export type PartialDB = {
  patient_invite: PatientInviteTable;
  patient_case: PatientCaseTable;
  oncall_entry: OnCallEntryTable;
  case_page: CasePageTable;
  case_page_target: CasePageTargetTable;
  case_policy: CasePolicyTable;
};
