import type {
  Campaign,
  CampaignResults,
  Lesson,
  MailCheckResult,
  OrgPhishingOverview,
  QuizResult,
  ReportOutcome,
  TriageItem,
  PhishTemplateSummary,
  CreateCampaignBody,
  PhishingSettings,
  CampaignSharing,
  PhishTemplate,
  TemplateBody,
} from '@consilium/protocol';
import { http, segment } from '../api/client';

type LessonSummary = { id: string; title: string; minutes: number; completedAt: string | null; bestScore: number | null; questionCount: number };

export const reportPhishing = (body: { eml?: string; note?: string }) => http.post<ReportOutcome>('/phishing/reports', body);
export const checkMail = (eml: string) => http.post<MailCheckResult>('/phishing/check', { eml });
export const listLessons = () => http.get<{ lessons: LessonSummary[] }>('/phishing/lessons');
export const getLesson = (id: string) => http.get<Lesson>(`/phishing/lessons/${segment(id)}`);
export const submitQuiz = (id: string, answers: number[]) => http.post<QuizResult>(`/phishing/lessons/${segment(id)}/quiz`, { answers });

export const listCampaigns = () => http.get<{ campaigns: Campaign[] }>('/phishing/campaigns');
export const campaignResults = (id: string) => http.get<CampaignResults>(`/phishing/campaigns/${segment(id)}/results`);
export const overview = () => http.get<OrgPhishingOverview>('/phishing/overview');
export const triageQueue = () => http.get<{ items: TriageItem[] }>('/phishing/triage');
export const decideTriage = (id: string, status: 'phishing' | 'spam' | 'benign') => http.post<TriageItem>(`/phishing/triage/${segment(id)}`, { status });
export const launchCampaign = (id: string) => http.post<Campaign>(`/phishing/campaigns/${segment(id)}/launch`);
export type { LessonSummary };
export const listTemplates = () => http.get<{ templates: PhishTemplateSummary[] }>('/phishing/templates');
export const createCampaign = (body: CreateCampaignBody) => http.post<Campaign>('/phishing/campaigns', body);
export const getSettings = () => http.get<PhishingSettings>('/phishing/settings');
export const updateSettings = (body: PhishingSettings) => http.put<PhishingSettings>('/phishing/settings', body);
export const campaignSharing = (id: string) => http.get<CampaignSharing>(`/phishing/campaigns/${segment(id)}/members`);
export const shareCampaign = (id: string, accountId: string, role: 'author' | 'viewer') =>
  http.put<CampaignSharing>(`/phishing/campaigns/${segment(id)}/members/${segment(accountId)}`, { role });
export const unshareCampaign = (id: string, accountId: string) => http.delete<CampaignSharing>(`/phishing/campaigns/${segment(id)}/members/${segment(accountId)}`);
export const getTemplate = (id: string) => http.get<PhishTemplate>(`/phishing/templates/${segment(id)}`);
export const createTemplate = (body: TemplateBody) => http.post<PhishTemplate>('/phishing/templates', body);
export const updateTemplate = (id: string, body: TemplateBody) => http.put<PhishTemplate>(`/phishing/templates/${segment(id)}`, body);
export const deleteTemplate = (id: string) => http.delete<{ ok: true }>(`/phishing/templates/${segment(id)}`);
