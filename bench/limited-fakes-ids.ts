/** The ids of the bulk-edit scenario's pages, shared by the fakes' process and the bench. */
export function pageId(i: number): string {
  return `1f8e2d3c-4b5a-4697-8877-${String(i).padStart(12, '0')}`;
}
