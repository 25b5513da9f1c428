import test from 'ava';
import {
  blobRef,
  decodeImageName,
  digestFromBlobRef,
  encodeImageName,
  imageNameFromRef,
  imageRef,
  isBlobRef,
} from '../../store/ref-names.js';

const hex = 'a'.repeat(64);

test('encodes the documented Atomic example exactly', (t) => {
  t.is(imageRef('docker.io/gscrivano/spc-etcd:latest'), 'ociimage/docker.io_2Fgscrivano_2Fspc-etcd_3Alatest');
});

test('encodes the special characters as the compat notes list them', (t) => {
  t.is(encodeImageName('/:_@'), '_2F_3A_5F_40');
  t.is(encodeImageName('A-Za.z09'), 'A-Za.z09');
  t.is(encodeImageName('127.0.0.1:5000/a_b/c@sha256'), '127.0.0.1_3A5000_2Fa_5Fb_2Fc_40sha256');
});

test('encodes non-ASCII per UTF-8 byte, upper-case hex', (t) => {
  t.is(encodeImageName('é'), '_C3_A9');
  t.is(encodeImageName('x/ü:1'), 'x_2F_C3_BC_3A1');
});

test('decode inverts encode', (t) => {
  for (const name of ['docker.io/library/busybox:latest', 'reg:5000/ns/ü_x:v1.2', 'localhost/a@b']) {
    t.is(decodeImageName(encodeImageName(name)), name);
    t.is(imageNameFromRef(imageRef(name)), name);
  }
});

test('decode rejects malformed encodings', (t) => {
  t.is(decodeImageName('abc_2'), undefined);
  t.is(decodeImageName('abc_zz'), undefined);
  t.is(decodeImageName('abc_2f'), undefined, 'lower-case hex is not what the encoder writes');
  t.is(decodeImageName('a:b'), undefined);
  t.is(decodeImageName('_C3'), undefined, 'truncated UTF-8');
});

test('blob refs are ociimage/<hex> and are never taken for image names', (t) => {
  t.is(blobRef(`sha256:${hex}`), `ociimage/${hex}`);
  t.true(isBlobRef(`ociimage/${hex}`));
  t.is(digestFromBlobRef(`ociimage/${hex}`), `sha256:${hex}`);
  t.is(imageNameFromRef(`ociimage/${hex}`), undefined);
  t.is(digestFromBlobRef('ociimage/docker.io_2Fx_3Alatest'), undefined);
  t.throws(() => blobRef('sha256:XYZ'), { message: /not a sha256 digest/ });
});

test('an empty image name is refused', (t) => {
  t.throws(() => encodeImageName(''), { message: /empty/ });
});
