//! Asynchronous read-backs (`to_vec_async`, `item_async`): the same values as the blocking
//! ones, the copy taken when the read starts, and a caller's mistake as an error.

use kiln_tensor::{device_test, Tensor};

fn ramp(len: usize) -> Vec<f32> {
    (0..len).map(|i| (i as f32 * 0.37).sin()).collect()
}

device_test!(async_read_backs_match_blocking_ones, |device| {
    for len in [0, 1, 7, 1000] {
        let x = Tensor::from_vec(ramp(len), &[len])
            .unwrap()
            .to_device(device)
            .unwrap();
        let y = x.relu().unwrap();
        let blocking = y.to_vec().unwrap();
        assert_eq!(pollster::block_on(y.to_vec_async()).unwrap(), blocking);
    }
    let m = Tensor::from_vec(ramp(6), &[2, 3])
        .unwrap()
        .to_device(device)
        .unwrap();
    // A lazy transpose is read in its own layout.
    let t = m.t();
    assert_eq!(
        pollster::block_on(t.to_vec_async()).unwrap(),
        t.to_vec().unwrap()
    );
    let sum = m.sum_all().unwrap();
    assert_eq!(
        pollster::block_on(sum.item_async()).unwrap(),
        sum.item().unwrap()
    );
});

device_test!(a_read_back_copies_when_it_starts, |device| {
    let x = Tensor::from_vec(ramp(4096), &[4096])
        .unwrap()
        .to_device(device)
        .unwrap();
    let y = x.relu().unwrap();
    let expected = y.to_vec().unwrap();
    let reading = y.to_vec_async();
    // The tensor goes, and later work of the same size may take its buffer.
    drop(y);
    let later: Vec<Tensor> = (0..4).map(|_| x.neg().unwrap()).collect();
    assert_eq!(pollster::block_on(reading).unwrap(), expected);
    assert_eq!(later[3].to_vec().unwrap()[1], -ramp(2)[1]);
});

device_test!(item_async_of_many_elements_is_an_error, |device| {
    let x = Tensor::from_vec(vec![1.0, 2.0], &[2])
        .unwrap()
        .to_device(device)
        .unwrap();
    let e = pollster::block_on(x.item_async()).unwrap_err();
    assert!(e.to_string().contains("item_async"), "{e}");
    assert!(e.to_string().contains("[2]"), "{e}");
});
