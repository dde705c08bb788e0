import { hex } from './decode-helpers';

/** Hex fixtures shared by several decoder tests. */

// 21:42:06.869344 IP (tos 0x0, ttl 64, id 57230, offset 0, flags [DF], proto TCP (6), length 64)
//   141.142.228.5.59856 > 192.150.187.43.80: Flags [S], seq 4263588410, win 65535,
//   options [mss 1460,nop,wscale 4,nop,nop,TS val 374005024 ecr 0,sackOK,eol], length 0   (zeek/tcp__syn.pcap)
export const ETHERNET_SYN = hex(`
  0010 db88 d2ef c8bc c896 d2a0 0800 4500
  0040 df8e 4000 4006 6dd3 8d8e e405 c096
  bb2b e9d0 0050 fe21 323a 0000 0000 b002
  ffff 3bc0 0000 0204 05b4 0103 0304 0101
  080a 164a dd20 0000 0000 0402 0000`);

// 00:10:db:88:d2:ef > c8:bc:c8:96:d2:a0, ethertype IPv4 (0x0800), length 70: (... proto ICMP (1), length 56)
//   10.9.9.9 > 141.142.228.5: ICMP host 192.150.187.43 unreachable - admin prohibited filter, length 36
//   (tos 0x0, ttl 64, id 57230, offset 0, flags [DF], proto TCP (6), length 64)
//   141.142.228.5.59856 > 192.150.187.43.80:  [|tcp]   (built: quotes the SYN of zeek/tcp__syn.pcap)
export const ICMP4_UNREACH = hex(`
  c8bc c896 d2a0 0010 db88 d2ef 0800 4500
  0038 0001 0000 4001 f61e 0a09 0909 8d8e
  e405 030d e275 0000 0000 4500 0040 df8e
  4000 4006 6dd3 8d8e e405 c096 bb2b e9d0
  0050 fe21 323a`);

// 02:00:00:00:00:99 > 02:00:00:00:00:01, ethertype IPv6 (0x86dd), length 146: (hlim 64, next-header ICMPv6 (58)
//   payload length: 92) 2001:db8::99 > 2001:db8::1: [icmp6 sum ok] ICMP6, destination unreachable,
//   unreachable prohibited 2001:db8::2   (built: quotes a whole IPv6 SYN 2001:db8::1.52522 > 2001:db8::2.80)
export const ICMP6_UNREACH = hex(`
  0200 0000 0001 0200 0000 0099 86dd 6000
  0000 005c 3a40 2001 0db8 0000 0000 0000
  0000 0000 0099 2001 0db8 0000 0000 0000
  0000 0000 0001 0101 9e28 0000 0000 6000
  0000 002c 0640 2001 0db8 0000 0000 0000
  0000 0000 0001 2001 0db8 0000 0000 0000
  0000 0000 0002 cd2a 0050 4ec8 52bd 0000
  0000 b002 ffff 0034 0000 0204 3fc4 0103
  0305 0101 080a 49b8 8685 0000 0000 0402
  0000`);

// 02:00:00:00:00:01 > 02:00:00:00:00:02, ethertype IPv4 (0x0800), length 128: (... proto UDP (17), length 114)
//   10.0.0.1.54321 > 10.0.0.2.4789: VXLAN, flags [I] (0x08), vni 4096
// c8:bc:c8:96:d2:a0 > 00:10:db:88:d2:ef, ethertype IPv4 (0x0800), length 78: (... proto TCP (6), length 64)
//   141.142.228.5.59856 > 192.150.187.43.80: Flags [S], seq 4263588410, win 65535, options [...], length 0   (built)
export const VXLAN_SYN = hex(`
  0200 0000 0002 0200 0000 0001 0800 4500
  0072 0001 0000 4011 6678 0a00 0001 0a00
  0002 d431 12b5 005e 0000 0800 0000 0010
  0000 0010 db88 d2ef c8bc c896 d2a0 0800
  4500 0040 df8e 4000 4006 6dd3 8d8e e405
  c096 bb2b e9d0 0050 fe21 323a 0000 0000
  b002 ffff 3bc0 0000 0204 05b4 0103 0304
  0101 080a 164a dd20 0000 0000 0402 0000`);
