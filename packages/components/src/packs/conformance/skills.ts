/**
 * Section 4.6: the skills extension (SEP-2640): one skill `pdf-processing` with a supporting
 * file in a subdirectory, its resources, and the skills/list, skills/get and
 * resources/directory/read methods.
 */
import { createHash } from 'node:crypto';
import type { JsonObject } from '@mcp-cluster/protocol';
import { Extension, ProtocolError } from '@mcp-cluster/protocol';
import type { MethodSpec } from '@mcp-cluster/server';
import { defineResource } from '../../resource.js';

const SKILL_NAME = 'pdf-processing';
const SKILL_DESCRIPTION = 'Extract, fill, and assemble PDF documents';
const SKILL_DIR = `skill://${SKILL_NAME}`;
export const SKILL_MD_URI = `${SKILL_DIR}/SKILL.md`;
export const FORMS_MD_URI = `${SKILL_DIR}/references/FORMS.md`;
const REFERENCES_DIR = `${SKILL_DIR}/references`;

export const SKILL_MD_TEXT = `---\nname: ${SKILL_NAME}\ndescription: ${SKILL_DESCRIPTION}\n---\n\nSkill body.\n`;
export const FORMS_MD_TEXT = 'Supporting content.\n';

const MARKDOWN = 'text/markdown';
const DIRECTORY = 'inode/directory';

function manifestEntry(uri: string, text: string): JsonObject {
  const bytes = Buffer.from(text, 'utf8');
  return {
    uri,
    digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`,
    size: bytes.length,
  };
}

/** The skill entry, identical in skills/list and skills/get. */
export const SKILL_ENTRY: JsonObject = {
  uri: SKILL_MD_URI,
  frontmatter: { name: SKILL_NAME, description: SKILL_DESCRIPTION },
  resources: [
    manifestEntry(SKILL_MD_URI, SKILL_MD_TEXT),
    manifestEntry(FORMS_MD_URI, FORMS_MD_TEXT),
  ],
};

export const skillMd = defineResource({
  uri: SKILL_MD_URI,
  name: SKILL_NAME,
  title: 'PDF processing skill',
  description: SKILL_DESCRIPTION,
  mimeType: MARKDOWN,
  size: Buffer.byteLength(SKILL_MD_TEXT),
  read: (uri) => ({ uri, mimeType: MARKDOWN, text: SKILL_MD_TEXT }),
});

export const formsMd = defineResource({
  uri: FORMS_MD_URI,
  name: 'FORMS.md',
  description: 'Supporting reference of the pdf-processing skill',
  mimeType: MARKDOWN,
  size: Buffer.byteLength(FORMS_MD_TEXT),
  read: (uri) => ({ uri, mimeType: MARKDOWN, text: FORMS_MD_TEXT }),
});

/** Directory listings, keyed by directory URI (no trailing slash). */
const DIRECTORIES: ReadonlyMap<string, readonly JsonObject[]> = new Map([
  [
    SKILL_DIR,
    [
      { uri: SKILL_MD_URI, name: 'SKILL.md', mimeType: MARKDOWN },
      { uri: REFERENCES_DIR, name: 'references', mimeType: DIRECTORY },
    ],
  ],
  [REFERENCES_DIR, [{ uri: FORMS_MD_URI, name: 'FORMS.md', mimeType: MARKDOWN }]],
]);

function uriParam(params: JsonObject, method: string): string {
  const uri = params['uri'];
  if (typeof uri !== 'string')
    throw ProtocolError.of('InvalidParams', `${method}: uri must be a string`);
  return uri;
}

export const skillsMethods: readonly MethodSpec[] = [
  {
    method: 'skills/list',
    cacheable: true,
    // One page: there is no nextCursor, and any cursor sent back gets the same single page.
    run: () => ({ skills: [SKILL_ENTRY] }),
  },
  {
    method: 'skills/get',
    cacheable: true,
    run(params) {
      const uri = uriParam(params, 'skills/get');
      if (uri !== SKILL_MD_URI) throw ProtocolError.of('InvalidParams', 'Unknown skill', { uri });
      return { skill: SKILL_ENTRY };
    },
  },
  {
    method: 'resources/directory/read',
    run(params) {
      const uri = uriParam(params, 'resources/directory/read');
      const children = DIRECTORIES.get(uri.endsWith('/') ? uri.slice(0, -1) : uri);
      if (!children) throw ProtocolError.of('InvalidParams', 'Not a directory', { uri });
      return { resources: children.map((c) => ({ ...c })) };
    },
  },
];

export const SKILLS_CAPABILITIES: JsonObject = {
  extensions: { [Extension.Skills]: { directoryRead: true } },
};
