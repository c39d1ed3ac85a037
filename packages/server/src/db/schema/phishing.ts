export interface PhishingSettingsTable {
  organisation_id: string;
  privacy_mode: number;
  min_group_size: number;
  retention_days: number;
  repeat_clicker_threshold: number;
  updated_at: string;
}
export interface PhishingCampaignTable {
  id: string;
  organisation_id: string;
  name: string;
  template_id: string;
  difficulty: string;
  sender_domain: string;
  /** CampaignTarget, JSON. */
  target: string;
  window_start: string;
  window_end: string;
  /** BusinessHours, JSON. */
  business_hours: string;
  status: string;
  created_by: string;
  created_at: string;
  launched_at: string | null;
  completed_at: string | null;
  /** PhishTemplate JSON as it was when the campaign was created (null: look the id up in the library). */
  template_snapshot: string | null;
}
export interface PhishingRecipientTable {
  id: string;
  campaign_id: string;
  organisation_id: string;
  account_id: string | null;
  email: string;
  display_name: string;
  department_id: string | null;
  role: string;
  /** 128-bit random, base64url: the per-recipient tracking id in links, pixel and Message-ID. */
  token: string;
  scheduled_at: string;
  status: string;
  attempts: number;
  next_attempt_at: string;
  /** Set while a scheduler is sending; a stale claim (crash mid-send) is taken over. */
  claimed_at: string | null;
  last_error: string | null;
  sent_at: string | null;
  message_id: string | null;
}
export interface PhishingEventTable {
  id: string;
  recipient_id: string;
  campaign_id: string;
  kind: string;
  at: string;
  bot: number;
  reason: string | null;
  /** JSON array of field names that were filled; never values. */
  fields_filled: string | null;
}
export interface PhishingReportTable {
  id: string;
  organisation_id: string;
  source: string;
  reporter_account_id: string | null;
  reporter_address: string | null;
  reported_at: string;
  subject: string | null;
  from_address: string | null;
  note: string | null;
  verdict: string | null;
  /** WarningSign[], JSON. */
  signs: string;
  /** The reported mail, for the security officer's triage (real mail only; bounded in size). */
  raw_eml: string | null;
  status: string;
  decided_by: string | null;
  decided_at: string | null;
}
export interface PhishingLessonProgressTable {
  account_id: string;
  lesson_id: string;
  best_score: number;
  completed_at: string | null;
  updated_at: string;
}
export interface PhishingMailboxStateTable {
  mailbox: string;
  uid_validity: string;
  last_uid: number;
  updated_at: string;
}
/** Who shares a campaign, and as what (owner / author / viewer). */
export interface PhishingCampaignMemberTable {
  campaign_id: string;
  account_id: string;
  role: string;
  granted_by: string;
  granted_at: string;
}
/** A custom template: PhishTemplate JSON (sanitised HTML, computed difficulty). */
export interface PhishingTemplateTable {
  id: string;
  organisation_id: string;
  body: string;
  created_by: string;
  created_at: string;
  updated_by: string;
  updated_at: string;
}
export type PartialDB = {
  phishing_template: PhishingTemplateTable;
  phishing_campaign_member: PhishingCampaignMemberTable;
  phishing_settings: PhishingSettingsTable;
  phishing_campaign: PhishingCampaignTable;
  phishing_recipient: PhishingRecipientTable;
  phishing_event: PhishingEventTable;
  phishing_report: PhishingReportTable;
  phishing_lesson_progress: PhishingLessonProgressTable;
  phishing_mailbox_state: PhishingMailboxStateTable;
};
