/**
 * The authorizer's options as zod schemas: the JSON configuration of authorization (owned by
 * @mcp-cluster/config, which validates the `auth.authz` section) plus code-only custom
 * policies. Other code-only options (audit sink, clock) are the authorizer's own.
 */
import {
  AUTHZ_CONFIG_SHAPE,
  CidrPolicySchema,
  POLICY_SCOPE_SHAPE,
  type PolicyScope,
  RatePolicySchema,
  TimePolicySchema,
  checkAnonymousRoles,
} from '@mcp-cluster/config';
import { z } from 'zod';
import type { PolicyPredicate } from './policies.js';

export type {
  AuthzConfig,
  CidrPolicyConfig,
  PolicyConfig,
  PolicyScope,
  TimePolicyConfig,
} from '@mcp-cluster/config';
export {
  AuthzConfigSchema,
  CidrPolicySchema,
  CidrSchema,
  MAX_ROLE_NAME_LENGTH,
  PermissionSchema,
  PolicyConfigSchema,
  RatePolicySchema,
  RolesSchema,
  TimePolicySchema,
} from '@mcp-cluster/config';

/** A code-only policy: `test` decides (see PolicyPredicate). `name` labels its denials. */
export interface CustomPolicy extends PolicyScope {
  readonly type: 'custom';
  readonly name: string;
  readonly test: PolicyPredicate;
}

const CustomPolicySchema = z.strictObject({
  type: z.literal('custom'),
  test: z.custom<PolicyPredicate>((value) => typeof value === 'function', {
    message: 'test must be a function',
  }),
  ...POLICY_SCOPE_SHAPE,
  name: POLICY_SCOPE_SHAPE.name.unwrap(),
});

/** Validates the authorizer's options: the JSON configuration plus custom policies. */
export const AuthzOptionsSchema = z
  .object({
    ...AUTHZ_CONFIG_SHAPE,
    policies: z
      .array(
        z.discriminatedUnion('type', [
          CidrPolicySchema,
          TimePolicySchema,
          RatePolicySchema,
          CustomPolicySchema,
        ]),
      )
      .optional(),
  })
  .superRefine(checkAnonymousRoles);
