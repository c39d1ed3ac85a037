import type { AcceptInviteBody, InvitePreview, Ok } from '@consilium/protocol';
import { http, segment } from './client';

export const previewInvite = (token: string) => http.get<InvitePreview>(`/invites/${segment(token)}`);

export const acceptInvite = (token: string, body: AcceptInviteBody) => http.post<Ok>(`/invites/${segment(token)}/accept`, body);
