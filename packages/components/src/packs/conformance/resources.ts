/** Section 4.2: resources and the resource template. */
import { defineResource, defineResourceTemplate } from '../../resource.js';
import { PNG_BASE64 } from './media.js';

export const staticText = defineResource({
  uri: 'test://static-text',
  name: 'static-text',
  title: 'Static text',
  description: 'A static text resource for testing',
  mimeType: 'text/plain',
  read: (uri) => ({
    uri,
    mimeType: 'text/plain',
    text: 'This is the content of the static text resource.',
  }),
});

export const staticBinary = defineResource({
  uri: 'test://static-binary',
  name: 'static-binary',
  title: 'Static binary',
  description: 'A static binary resource (image) for testing',
  mimeType: 'image/png',
  read: (uri) => ({ uri, mimeType: 'image/png', blob: PNG_BASE64 }),
});

export const watched = defineResource({
  uri: 'test://watched-resource',
  name: 'watched-resource',
  title: 'Watched resource',
  description: 'A resource that can be subscribed to',
  mimeType: 'text/plain',
  read: (uri) => ({ uri, mimeType: 'text/plain', text: 'Watched resource content' }),
});

export const template = defineResourceTemplate({
  uriTemplate: 'test://template/{id}/data',
  name: 'template',
  title: 'Template',
  description: 'A resource template with an id parameter',
  mimeType: 'application/json',
  complete: { id: () => [] },
  read(uri, { id }) {
    const value = typeof id === 'string' ? id : (id ?? []).join(',');
    return {
      uri,
      mimeType: 'application/json',
      text: JSON.stringify({ id: value, templateTest: true, data: `Data for ID: ${value}` }),
    };
  },
});
