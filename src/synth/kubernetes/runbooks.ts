/**
 * Where an alert's runbook lives: a section of the repository's README,
 * "Runbooks" → one `### <AlertName>` heading per alert, linked from the alert's
 * `runbook_url` annotation so the on-call engineer lands on what to do.
 */

/** The web address of a Git URL (`https://host/owner/repo.git`, `git@host:owner/repo.git`, `ssh://git@host/owner/repo.git`). */
export function repositoryWebUrl(gitUrl: string): string {
  const scp = /^git@([^:]+):(.+)$/.exec(gitUrl);
  const web = scp ? `https://${scp[1]}/${scp[2]}` : gitUrl.replace(/^ssh:\/\/(?:[^@/]+@)?/, 'https://');
  return web.replace(/\.git$/, '');
}

/** GitHub's anchor of a README heading: lower case, punctuation dropped, spaces to dashes. */
export function headingAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** `runbook_url` of an alert: the README section named after it. */
export function runbookUrl(gitUrl: string, alertName: string): string {
  return `${repositoryWebUrl(gitUrl)}/blob/HEAD/README.md#${headingAnchor(alertName)}`;
}
