/**
 * The `Pipelock-Mediation` header (spec §2): one RFC 8941 Dictionary, members in a fixed order.
 */
import {parseDictionary, serializeDictionary, sfItem, SfError, type BareItem, type SfDictionary} from './sfv.js'

export const MEDIATION_HEADER = 'pipelock-mediation'

export type ActorAuth = 'bound' | 'matched' | 'config-default' | 'self-declared' | ''
const ACTOR_AUTH = new Set(['bound', 'matched', 'config-default', 'self-declared', ''])

export interface Envelope {
  readonly v: number
  readonly act: string
  readonly vd: string
  readonly se: string
  readonly actor: string
  readonly aa: string
  /** 16 bytes of the policy hash. */
  readonly ph: Buffer
  readonly rid: string
  readonly ts: number
  readonly taint?: string
  readonly task?: string
  readonly auth?: string
  readonly authr?: string
  readonly reauth?: boolean
  readonly hop?: number
}

/** Serializes in the spec's member order; throws SfError for a value RFC 8941 cannot carry. */
export function serializeEnvelope(e: Envelope): string {
  if (e.hop !== undefined && e.hop < 0) throw new SfError('hop must be >= 0')
  const d: SfDictionary = [
    ['v', sfItem({t: 'int', v: e.v})],
    ['act', sfItem({t: 'str', v: e.act})],
    ['vd', sfItem({t: 'str', v: e.vd})],
    ['se', sfItem({t: 'str', v: e.se})],
    ['actor', sfItem({t: 'str', v: e.actor})],
    ['aa', sfItem({t: 'str', v: e.aa})],
    ['ph', sfItem({t: 'bytes', v: e.ph})],
    ['rid', sfItem({t: 'str', v: e.rid})],
    ['ts', sfItem({t: 'int', v: e.ts})],
  ]
  for (const k of ['taint', 'task', 'auth', 'authr'] as const) {
    const v = e[k]
    if (v !== undefined && v !== '') d.push([k, sfItem({t: 'str', v})])
  }
  if (e.reauth === true) d.push(['reauth', sfItem({t: 'bool', v: true})])
  if (e.hop !== undefined && e.hop > 0) d.push(['hop', sfItem({t: 'int', v: e.hop})])
  return serializeDictionary(d)
}

/** Parses an envelope (spec §2.2): mistyped known members are ignored; required ones checked in order. */
export function parseEnvelope(text: string | readonly string[]): Envelope {
  let d: SfDictionary
  try {
    d = parseDictionary(text)
  } catch (e) {
    throw new SfError(`parsing dictionary: ${(e as Error).message}`)
  }
  const get = (k: string, t: BareItem['t']): BareItem | undefined => {
    const m = d.find(([dk]) => dk === k)?.[1]
    return m !== undefined && m.kind === 'item' && m.value.t === t ? m.value : undefined
  }
  const str = (k: string): string => (get(k, 'str')?.v as string | undefined) ?? ''
  const int = (k: string): number => (get(k, 'int')?.v as number | undefined) ?? 0
  const hopMember = d.find(([k]) => k === 'hop')?.[1]
  let hop: number | undefined
  if (hopMember !== undefined) {
    if (hopMember.kind !== 'item' || hopMember.value.t !== 'int' || hopMember.value.v < 0) throw new SfError('hop must be a non-negative integer')
    hop = hopMember.value.v
  }
  const e: Envelope = {
    v: int('v'), act: str('act'), vd: str('vd'), se: str('se'), actor: str('actor'), aa: str('aa'),
    ph: (get('ph', 'bytes')?.v as Buffer | undefined) ?? Buffer.alloc(0), rid: str('rid'), ts: int('ts'),
    ...(str('taint') !== '' ? {taint: str('taint')} : {}),
    ...(str('task') !== '' ? {task: str('task')} : {}),
    ...(str('auth') !== '' ? {auth: str('auth')} : {}),
    ...(str('authr') !== '' ? {authr: str('authr')} : {}),
    ...(get('reauth', 'bool')?.v === true ? {reauth: true} : {}),
    ...(hop !== undefined ? {hop} : {}),
  }
  for (const [k, missing] of [['v', e.v === 0], ['act', e.act === ''], ['vd', e.vd === ''], ['rid', e.rid === ''], ['ts', e.ts === 0]] as const) {
    if (missing) throw new SfError(`missing required field "${k}"`)
  }
  if (!ACTOR_AUTH.has(e.aa)) throw new SfError(`unknown actor_auth value "${e.aa}"`)
  return e
}

/** Action and side effect for a forwarded method (spec §2.1). */
export function actionForMethod(method: string): {act: string; se: string} {
  const m = method.toUpperCase()
  if (['GET', 'HEAD', 'OPTIONS', 'TRACE', 'CONNECT'].includes(m)) return {act: 'read', se: 'external_read'}
  if (['POST', 'PUT', 'PATCH', 'DELETE'].includes(m)) return {act: 'write', se: 'external_write'}
  return {act: 'unclassified', se: 'none'}
}

/** `ph`: 16 bytes of the config hash (`sha256:<hex>`, spec §2.1 port note). */
export function policyHashBytes(configHash: string): Buffer {
  const hex = configHash.replace(/^sha256:/, '')
  const out = Buffer.alloc(16)
  if (/^[0-9a-f]+$/i.test(hex) && hex.length % 2 === 0) Buffer.from(hex, 'hex').copy(out, 0, 0, 16)
  return out
}
