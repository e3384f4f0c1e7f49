using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace ServerlessTune.Core.Modeling.Kernels;

/// <summary>
/// The address of a CPU tensor's first element, for the .NET kernels. TorchSharp's <c>Tensor.bytes</c> costs five
/// native calls, refuses views that are not contiguous and stops at 2 GB (a large vocabulary's fp32 head is
/// more); its native library's own accessor is one call and takes any view, whose strides the caller then uses.
/// </summary>
internal static unsafe partial class TensorMemory
{
    [LibraryImport("LibTorchSharp")]
    private static partial nint THSTensor_data(nint tensor);

    /// <summary>The first element (the storage offset included; null for an empty tensor). The tensor must be on the
    /// CPU and stay alive while it is read.</summary>
    public static T* Address<T>(Tensor t) where T : unmanaged => (T*)THSTensor_data(t.Handle);
}
