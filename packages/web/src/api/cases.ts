import type { CaseDetail, CaseFilter, CaseList, CasePolicy, CaseSummary, OnCallRoster, Ok, OpenCaseBody, SetOnCallBody, UpdateCasePolicyBody } from '@consilium/protocol';
import { http, segment } from './client';

export const listCases = (filter: CaseFilter = 'all') => http.get<CaseList>(`/cases?filter=${encodeURIComponent(filter)}`);
export const getCase = (id: string) => http.get<CaseDetail>(`/cases/${segment(id)}`);
export const openCase = (body: OpenCaseBody) => http.post<CaseDetail>('/cases', body);
export const acceptCase = (id: string) => http.post<CaseSummary>(`/cases/${segment(id)}/accept`);
export const declineCase = (id: string) => http.post<CaseSummary>(`/cases/${segment(id)}/decline`);
export const escalateCase = (id: string, step?: number) => http.post<CaseSummary>(`/cases/${segment(id)}/escalate`, step === undefined ? {} : { step });
export const markCaseAnswered = (id: string) => http.post<CaseSummary>(`/cases/${segment(id)}/answered`);
export const closeCase = (id: string) => http.post<CaseSummary>(`/cases/${segment(id)}/close`, { outcomeRecorded: true });
export const recordCaseExport = (id: string) => http.post<Ok>(`/cases/${segment(id)}/exports`, { format: 'fhir-r4-bundle' });

export const getOnCall = (departmentId: string) => http.get<OnCallRoster>(`/oncall/${segment(departmentId)}`);
export const setOnCall = (departmentId: string, body: SetOnCallBody) => http.put<OnCallRoster>(`/oncall/${segment(departmentId)}`, body);

export const getCasePolicy = () => http.get<CasePolicy>('/org/case-policy');
export const updateCasePolicy = (body: UpdateCasePolicyBody) => http.patch<CasePolicy>('/org/case-policy', body);
