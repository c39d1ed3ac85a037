import type {
  AuditLogInfo,
  DeviceKeyEntries,
  InclusionProof,
  ConsistencyProof,
  ClaimedKeyPackages,
  Conversation,
  ConversationKind,
  ConversationList,
  Device,
  DeviceChallenge,
  DeviceList,
  Directory,
  KeyPackageCount,
  MessagePage,
  Ok,
  ReceiptList,
  RegisterDeviceBody,
  SubmitMessageBody,
  SubmittedMessage,
  UploadKeyPackagesBody,
  WelcomeList,
} from '@consilium/protocol';
import { http, segment } from './client';

export const listDevices = () => http.get<DeviceList>('/devices');
export const registerDevice = (body: RegisterDeviceBody) => http.post<Device>('/devices', body);
export const deviceChallenge = () => http.post<DeviceChallenge>('/devices/challenge');
export const attachDevice = (deviceId: string, signature: string) => http.post<Device>('/devices/attach', { deviceId, signature });
export const revokeDevice = (id: string) => http.delete<Ok>(`/devices/${segment(id)}`);
export const uploadKeyPackages = (body: UploadKeyPackagesBody) => http.post<KeyPackageCount>('/devices/current/key-packages', body);
export const claimKeyPackages = (accountIds: string[], deviceIds?: string[]) =>
  http.post<ClaimedKeyPackages>('/key-packages/claim', deviceIds ? { accountIds, deviceIds } : { accountIds });

export const searchDirectory = (q: string) => http.get<Directory>(`/directory?q=${encodeURIComponent(q)}`);

export const listConversations = () => http.get<ConversationList>('/conversations');
export const getConversation = (id: string) => http.get<Conversation>(`/conversations/${segment(id)}`);
export const createConversation = (id: string, kind: ConversationKind, memberAccountIds: string[]) =>
  http.post<Conversation>('/conversations', { id, kind, memberAccountIds });
export const submitMessage = (conversationId: string, body: SubmitMessageBody) =>
  http.post<SubmittedMessage>(`/conversations/${segment(conversationId)}/messages`, body);
export const fetchMessages = (conversationId: string, after: number, limit = 100) =>
  http.get<MessagePage>(`/conversations/${segment(conversationId)}/messages?after=${after}&limit=${limit}`);
export const acknowledge = (conversationId: string, seq: number) => http.post<Ok>(`/conversations/${segment(conversationId)}/ack`, { seq });
export const markRead = (conversationId: string, seq: number) => http.post<Ok>(`/conversations/${segment(conversationId)}/read`, { seq });
export const getReceipts = (conversationId: string) => http.get<ReceiptList>(`/conversations/${segment(conversationId)}/receipts`);
export const addConversationMembers = (conversationId: string, accountIds: string[]) =>
  http.post<Conversation>(`/conversations/${segment(conversationId)}/members`, { accountIds });
/** Removes a member; with one's own account id, leaves the conversation. */
export const removeConversationMember = (conversationId: string, accountId: string) =>
  http.delete<Ok>(`/conversations/${segment(conversationId)}/members/${segment(accountId)}`);
/** Deletes the server's copy of an own message (and the blobs of the attachments it names). */
export const recallMessage = (conversationId: string, seq: number, blobIds: string[]) =>
  http.delete<Ok>(`/conversations/${segment(conversationId)}/messages/${seq}${blobIds.length ? `?attachments=${blobIds.join(',')}` : ''}`);
export const listWelcomes = () => http.get<WelcomeList>('/welcomes');
export const consumeWelcome = (id: string) => http.post<Ok>(`/welcomes/${segment(id)}/consumed`);

// `organisationId`: whose key log (own by default; a connected organisation's is readable too).
const orgParam = (organisationId: string | undefined, first: boolean) => (organisationId ? `${first ? '?' : '&'}organisationId=${encodeURIComponent(organisationId)}` : '');
export const getKeyLog = (organisationId?: string) => http.get<AuditLogInfo>(`/keys/log${orgParam(organisationId, true)}`);
export const getKeyConsistencyProof = (from: number, to: number, organisationId?: string) =>
  http.get<ConsistencyProof>(`/keys/proofs/consistency?from=${from}&to=${to}${orgParam(organisationId, false)}`);
export const getKeyInclusionProof = (index: number, size: number, organisationId?: string) =>
  http.get<InclusionProof>(`/keys/proofs/inclusion?index=${index}&size=${size}${orgParam(organisationId, false)}`);
export const getDeviceKeyEntries = (deviceId: string) => http.get<DeviceKeyEntries>(`/keys/devices/${segment(deviceId)}`);
