export interface DepartmentTable {
  id: string;
  organisation_id: string;
  name: string;
  created_at: string;
}
export const tableName = 'department';
export type PartialDB = { [tableName]: DepartmentTable };
