/** Section 4.1: content tools used on both wires (and the JSON Schema 2020-12 tool). */
import { defineTool } from '../../tool.js';
import { PNG_BASE64, WAV_BASE64 } from './media.js';
import { show } from './util.js';

export const simpleText = defineTool({
  name: 'test_simple_text',
  title: 'Simple text',
  description: 'Tests simple text content response',
  handler: () => 'This is a simple text response for testing.',
});

export const imageContent = defineTool({
  name: 'test_image_content',
  title: 'Image content',
  description: 'Tests image content response',
  handler: () => ({ type: 'image', data: PNG_BASE64, mimeType: 'image/png' }) as const,
});

export const audioContent = defineTool({
  name: 'test_audio_content',
  title: 'Audio content',
  description: 'Tests audio content response',
  handler: () => ({ type: 'audio', data: WAV_BASE64, mimeType: 'audio/wav' }) as const,
});

export const embeddedResource = defineTool({
  name: 'test_embedded_resource',
  title: 'Embedded resource',
  description: 'Tests embedded resource content response',
  handler: () =>
    ({
      type: 'resource',
      resource: {
        uri: 'test://embedded-resource',
        mimeType: 'text/plain',
        text: 'This is an embedded resource content.',
      },
    }) as const,
});

export const multipleContentTypes = defineTool({
  name: 'test_multiple_content_types',
  title: 'Multiple content types',
  description: 'Tests response with multiple content types (text, image, resource)',
  handler: () => [
    { type: 'text', text: 'Multiple content types test:' } as const,
    { type: 'image', data: PNG_BASE64, mimeType: 'image/png' } as const,
    {
      type: 'resource',
      resource: {
        uri: 'test://mixed-content-resource',
        mimeType: 'application/json',
        text: '{"test":"data","value":123}',
      },
    } as const,
  ],
});

export const errorHandling = defineTool({
  name: 'test_error_handling',
  title: 'Error handling',
  description: 'Tests error response handling',
  handler: () => ({
    isError: true,
    content: [
      { type: 'text' as const, text: 'This tool intentionally returns an error for testing' },
    ],
  }),
});

/** Listed verbatim: the suite looks for every 2020-12 keyword below. */
export const JSON_SCHEMA_2020_12_INPUT = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  $defs: {
    address: {
      $anchor: 'addressDef',
      type: 'object',
      properties: { street: { type: 'string' }, city: { type: 'string' } },
    },
  },
  properties: {
    name: { type: 'string' },
    address: { $ref: '#/$defs/address' },
    contactMethod: { type: 'string', enum: ['phone', 'email'] },
    phone: { type: 'string' },
    email: { type: 'string' },
  },
  additionalProperties: false,
  allOf: [{ anyOf: [{ required: ['phone'] }, { required: ['email'] }] }],
  if: { properties: { contactMethod: { const: 'phone' } }, required: ['contactMethod'] },
  then: { required: ['phone'] },
  else: { required: ['email'] },
} as const;

export const jsonSchema202012 = defineTool({
  name: 'json_schema_2020_12_tool',
  title: 'JSON Schema 2020-12',
  description: 'Tool with a JSON Schema 2020-12 input schema ($defs, $anchor, allOf, if/then/else)',
  input: JSON_SCHEMA_2020_12_INPUT,
  handler: (args) => `JSON Schema 2020-12 tool called with: ${JSON.stringify(args)}`,
});

/** Section 4.5: the first (and only) tool with x-mcp-header properties; all optional. */
export const customHeaders = defineTool({
  name: 'test_custom_headers',
  title: 'Custom headers',
  description:
    'Tests SEP-2243 custom headers: region and priority are mirrored in Mcp-Param-* headers',
  input: {
    type: 'object',
    properties: {
      region: { type: 'string', description: 'Deployment region', 'x-mcp-header': 'Region' },
      priority: { type: 'integer', description: 'Request priority', 'x-mcp-header': 'Priority' },
      query: { type: 'string', description: 'Free text (not mirrored in a header)' },
    },
  },
  handler: (args) =>
    `Custom headers tool called with region=${show(args['region'] ?? '')}, priority=${show(args['priority'] ?? '')}`,
});
