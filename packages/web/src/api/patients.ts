import type { AcceptPatientInviteBody, CreatedPatientInvite, Ok, PatientInvitePreview } from '@consilium/protocol';
import { http, segment } from './client';

export const createPatientInvite = (label: string) => http.post<CreatedPatientInvite>('/patient-invites', { label });
export const previewPatientInvite = (token: string) => http.get<PatientInvitePreview>(`/patient-invites/${segment(token)}`);
export const acceptPatientInvite = (token: string, body: AcceptPatientInviteBody) => http.post<Ok>(`/patient-invites/${segment(token)}/accept`, body);
