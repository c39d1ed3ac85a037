import type { PartialDB as Organisation } from './organisation.js';
import type { PartialDB as Department } from './department.js';
import type { PartialDB as Account } from './account.js';
import type { PartialDB as Session } from './session.js';
import type { PartialDB as Mfa } from './mfa.js';
import type { PartialDB as Invite } from './invite.js';
import type { PartialDB as SigninAttempt } from './signin-attempt.js';
import type { PartialDB as Audit } from './audit.js';
import type { PartialDB as Messaging } from './messaging.js';
import type { PartialDB as Cases } from './cases.js';
import type { PartialDB as Phishing } from './phishing.js';
import type { PartialDB as Backup } from './backup.js';
import type { PartialDB as Attachment } from './attachment.js';
import type { PartialDB as OrgConnection } from './org-connection.js';
import type { PartialDB as AccountPreference } from './account-preference.js';

export type DatabaseSchema = Organisation & Department & Account & Session & Mfa & Invite & SigninAttempt & Audit & Messaging & Cases & Phishing & Backup & Attachment & OrgConnection & AccountPreference;
