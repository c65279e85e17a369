/**
 * The built-in conformance fixture pack (`builtin:conformance`): every fixture tool, resource
 * and prompt the official MCP conformance suite (npm `@modelcontextprotocol/conformance`,
 * https://github.com/modelcontextprotocol/conformance) calls in its server scenarios.
 * Listing order matters: `test_simple_text` is first (the header-whitespace check calls the
 * first tool with {}), and `test_custom_headers` is the first tool with x-mcp-header.
 */
import type { ComponentPack } from '@mcp-cluster/server';
import { definePack } from '../../pack.js';
import * as prompts from './prompts.js';
import * as resources from './resources.js';
import { SKILLS_CAPABILITIES, formsMd, skillMd, skillsMethods } from './skills.js';
import * as content from './tools-content.js';
import * as interactive from './tools-interactive.js';
import * as modern from './tools-modern.js';
import * as tasks from './tools-tasks.js';

export const conformancePack: ComponentPack = definePack({
  name: 'conformance',
  instructions:
    'Conformance fixtures for the official MCP conformance suite. Not meant for real use.',
  capabilities: {
    tools: { listChanged: true },
    prompts: { listChanged: true },
    resources: { subscribe: true, listChanged: true },
    ...SKILLS_CAPABILITIES,
  },
  methods: skillsMethods,
  components: [
    // 4.1 (test_simple_text first)
    content.simpleText,
    content.imageContent,
    content.audioContent,
    content.embeddedResource,
    content.multipleContentTypes,
    interactive.toolWithLogging,
    interactive.toolWithProgress,
    content.errorHandling,
    interactive.sampling,
    interactive.elicitation,
    interactive.elicitationSep1034,
    interactive.elicitationSep1330,
    content.jsonSchema202012,
    interactive.reconnection,
    // 4.5
    content.customHeaders,
    // 4.3
    modern.missingCapability,
    modern.streamingElicitation,
    modern.loggingTool,
    modern.triggerToolChange,
    modern.triggerPromptChange,
    modern.mrtrElicitation,
    modern.mrtrSampling,
    modern.mrtrListRoots,
    modern.mrtrRequestState,
    modern.mrtrMultipleInputs,
    modern.mrtrMultiRound,
    modern.mrtrTamperedState,
    modern.mrtrCapabilities,
    // 4.4
    tasks.greet,
    tasks.slowCompute,
    tasks.failingJob,
    tasks.protocolErrorJob,
    tasks.confirmDelete,
    tasks.multiInput,
    tasks.toolWithTask,
    // 4.2 resources and template, 4.6 skill files
    resources.staticText,
    resources.staticBinary,
    resources.watched,
    resources.template,
    skillMd,
    formsMd,
    // 4.2 prompts, 4.3 MRTR prompt
    prompts.simplePrompt,
    prompts.promptWithArguments,
    prompts.promptWithEmbeddedResource,
    prompts.promptWithImage,
    prompts.mrtrPrompt,
  ],
});
